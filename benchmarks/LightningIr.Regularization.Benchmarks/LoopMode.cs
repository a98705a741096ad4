using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// A plain loop for profilers (<c>-- loop &lt;L1|L2|FLOPS&gt; &lt;literal|library|clone&gt; [calls] [tiny]</c>):
/// forward+backward at SPLADE shapes (or Lightning IR's 4×8×4 with <c>tiny</c>), fresh gradients each call, nothing else
/// in the process's hot path; prints the mean time of a call after a tenth of the calls as warm-up. Run it under
/// <c>perf record</c> (with <c>DOTNET_PerfMapEnabled=1</c> for .NET frames).
/// </summary>
public static class LoopMode
{
    public static int Run(string loss, string variant, int calls, bool tiny)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        using var query = tiny ? SpladeLike.Embeddings(4, 8, 4) : SpladeLike.Embeddings(32, 1, 30522);
        using var doc = tiny ? SpladeLike.Embeddings(4, 8, 4) : SpladeLike.Embeddings(256, 1, 30522);
        var regularizer = Regularizers.Create(loss);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        Action call = variant switch
        {
            "literal" => () => LiteralLightningIr.Compute(loss, query, doc, regularizer.QueryWeight, regularizer.DocWeight).backward(),
            "library" => () => regularizer.ComputeLoss(output).backward(),
            "clone" => () => { query.clone(); doc.clone(); },
            _ => throw new ArgumentException($"Unknown variant '{variant}'; expected literal, library or clone.", nameof(variant)),
        };
        var warmUp = calls / 10;
        var clock = new System.Diagnostics.Stopwatch();
        for (var i = 0; i < calls; i++)
        {
            if (i == warmUp)
            {
                clock.Start();
            }

            using (var scope = NewDisposeScope())
            {
                call();
            }

            query.grad = null;
            doc.grad = null;
        }

        Console.WriteLine($"{loss} {variant}: {clock.Elapsed.TotalMilliseconds * 1000 / (calls - warmUp):F1} µs per call over {calls - warmUp} calls");
        return 0;
    }
}
