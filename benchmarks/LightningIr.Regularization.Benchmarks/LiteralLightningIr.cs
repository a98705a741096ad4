using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Lightning IR's regularizers as its Python code writes them (lightning_ir/loss/regularization.py),
/// op for op in TorchSharp: the baseline the library is measured against.
/// </summary>
public static class LiteralLightningIr
{
    private static readonly long[] BatchDim = [0];

    public static Tensor Compute(string loss, Tensor query, Tensor doc, double queryWeight, double docWeight) => loss switch
    {
        "L2" => query.norm(-1, p: 2).mean().mul(queryWeight).add(doc.norm(-1, p: 2).mean().mul(docWeight)),
        "L1" => query.norm(-1, p: 1).mean().mul(queryWeight).add(doc.norm(-1, p: 1).mean().mul(docWeight)),
        "FLOPS" => Flops(query).mul(queryWeight).add(Flops(doc).mul(docWeight)),
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "unknown loss"),
    };

    private static Tensor Flops(Tensor x) => x.abs().mean(BatchDim).pow(2).sum();
}
