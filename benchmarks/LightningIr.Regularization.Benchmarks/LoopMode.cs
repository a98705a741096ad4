using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// A plain loop for profilers (<c>-- loop &lt;L1|L2|FLOPS&gt; &lt;literal|library|clone&gt; [calls]</c>): forward+backward
/// at SPLADE shapes, fresh gradients each call, nothing else in the process's hot path. Run it under
/// <c>perf record</c> (with <c>DOTNET_PerfMapEnabled=1</c> for .NET frames).
/// </summary>
public static class LoopMode
{
    public static int Run(string loss, string variant, int calls)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        using var query = SpladeLike.Embeddings(32, 1, 30522);
        using var doc = SpladeLike.Embeddings(256, 1, 30522);
        var regularizer = Regularizers.Create(loss);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        Action call = variant switch
        {
            "literal" => () => LiteralLightningIr.Compute(loss, query, doc, regularizer.QueryWeight, regularizer.DocWeight).backward(),
            "library" => () => regularizer.ComputeLoss(output).backward(),
            "clone" => () => { query.clone(); doc.clone(); },
            _ => throw new ArgumentException($"Unknown variant '{variant}'; expected literal, library or clone.", nameof(variant)),
        };
        for (var i = 0; i < calls; i++)
        {
            using (var scope = NewDisposeScope())
            {
                call();
            }

            query.grad = null;
            doc.grad = null;
        }

        return 0;
    }
}
