using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.TestSupport;

/// <summary>
/// Lightning IR's regularizers as its Python code writes them (lightning_ir/loss/regularization.py), op for op in
/// TorchSharp: what the tests compare with bit for bit and the benchmarks measure against.
/// </summary>
public static class LiteralLightningIr
{
    private static readonly long[] BatchDim = [0];

    /// <summary>One side's unweighted penalty.</summary>
    public static Tensor Penalty(string loss, Tensor x) => loss switch
    {
        "L2" => x.norm(-1, p: 2).mean(),
        "L1" => x.norm(-1, p: 1).mean(),
        "FLOPS" => x.abs().mean(BatchDim).pow(2).sum(),
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "unknown loss"),
    };

    /// <summary><c>query_weight · penalty(q) + doc_weight · penalty(d)</c>.</summary>
    public static Tensor Compute(string loss, Tensor query, Tensor doc, double queryWeight, double docWeight)
        => Penalty(loss, query).mul(queryWeight).add(Penalty(loss, doc).mul(docWeight));
}
