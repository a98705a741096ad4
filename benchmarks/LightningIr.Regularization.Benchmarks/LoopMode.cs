using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// A plain loop for profilers and A/B runs
/// (<c>-- loop &lt;L1|L2|FLOPS&gt; &lt;literal|library|share|clone&gt; [calls] [shape] [fresh|accumulated|activation]</c>):
/// forward+backward at SPLADE shapes (or Lightning IR's 4×8×4 with <c>tiny</c>, or <c>N</c>×<c>D</c> vectors for both
/// sides with <c>NxD</c>), nothing else in the process's hot path; prints the mean time and
/// page faults of a call after a tenth of the calls as warm-up. The gradients are fresh each call (the default), accumulate into the leaves' existing
/// <c>.grad</c>, or (<c>activation</c>) the losses read <c>relu(leaf)</c>, computed in each call, as a model's output
/// would be: the gradient then flows on through autograd rather than into a leaf's <c>.grad</c>. Run it under
/// <c>perf record</c> (with <c>DOTNET_PerfMapEnabled=1</c> for .NET frames).
/// </summary>
public static class LoopMode
{
    public static int Run(string loss, string variant, int calls, string shape, string gradients)
    {
        if (gradients is not ("fresh" or "accumulated" or "activation"))
        {
            throw new ArgumentException($"Unknown gradient mode '{gradients}'; expected fresh, accumulated or activation.", nameof(gradients));
        }

        var activation = gradients == "activation";
        torch.set_num_threads(2);
        manual_seed(0);
        var (queryShape, docShape) = shape switch
        {
            "splade" => (new long[] { 32, 1, 30522 }, new long[] { 256, 1, 30522 }),
            "tiny" => ([4, 8, 4], [4, 8, 4]),
            _ when shape.Split('x') is [var rows, var dim] => (Dimensions(rows, dim), Dimensions(rows, dim)),
            _ => throw new ArgumentException($"Unknown shape '{shape}'; expected splade, tiny or NxD.", nameof(shape)),
        };
        using var query = SpladeLike.Embeddings(queryShape);
        using var doc = SpladeLike.Embeddings(docShape);
        var regularizer = Regularizers.Create(loss);
        Tensor Input(Tensor leaf) => activation ? leaf.relu() : leaf;
        // The split path's share: these embeddings as one of two equal parts of a batch (collected only for that variant).
        using var total = variant == "share" ? TwoEqualParts(regularizer, query, doc) : null;
        Action call = variant switch
        {
            "share" => () => regularizer.ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(Input(query)), DocEmbeddings: new(Input(doc))), total!).backward(),
            "literal" => () => LiteralLightningIr.Compute(loss, Input(query), Input(doc), regularizer.QueryWeight, regularizer.DocWeight).backward(),
            "library" => () => regularizer.ComputeLoss(Input(query), Input(doc)).backward(),
            "clone" => () => { query.clone(); doc.clone(); },
            _ => throw new ArgumentException($"Unknown variant '{variant}'; expected literal, library, share or clone.", nameof(variant)),
        };
        var warmUp = calls / 10;
        var clock = new System.Diagnostics.Stopwatch();
        long faults = 0;
        for (var i = 0; i < calls; i++)
        {
            if (i == warmUp)
            {
                faults = MinorFaults();
                clock.Start();
            }

            using (var scope = NewDisposeScope())
            {
                call();
            }

            if (gradients != "accumulated")
            {
                query.grad = null;
                doc.grad = null;
            }
        }

        clock.Stop();
        var timed = calls - warmUp;
        Console.WriteLine(
            $"{loss} {variant}: {clock.Elapsed.TotalMilliseconds * 1000 / timed:F1} µs and {(MinorFaults() - faults) / (double)timed:F0} page faults per call over {timed} calls");
        return 0;
    }

    private static RegularizationStatistics TwoEqualParts(RegularizationLossFunction regularizer, Tensor query, Tensor doc)
    {
        using var half = regularizer.CollectStatistics(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc)));
        return half.Add(half).DetachFromDisposeScope();
    }

    private static long[] Dimensions(params string[] sizes)
        => sizes.Select(size => long.Parse(size, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The process's minor page faults so far (field 10 of <c>/proc/self/stat</c>): fresh memory touched.</summary>
    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture); // field 10, counted from the state (field 3)
    }
}
