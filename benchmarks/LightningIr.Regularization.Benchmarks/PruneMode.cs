using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Static pruning at SPLADE shapes against the raw ops it is built from, in one run (<c>-- prune [rounds]</c>):
/// 256 documents × 30,522 terms of float32 with about 190 non-zero entries each, cut to their 64 largest. The variants run
/// in a rotating order, a different one first each round, after one warm-up round; each round times each variant over
/// three calls. Reported per variant: the median time per call, and its per-round ratio to <c>torch.topk</c> + scatter
/// with a distribution-free 95% interval for the median ratio (order statistics of the paired rounds). The collection
/// threshold runs over four such batches (1M documents would be 4,000), and its time is given per batch and per pass.
/// </summary>
public static class PruneMode
{
    private const long Documents = 256;
    private const long Vocabulary = 30522;
    private const int K = 64;
    private const int CallsPerRound = 3;
    private const int CollectionBatches = 4;

    public static int Run(int rounds)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        using var docs = randn(Documents, Vocabulary).sub(2.5).relu().log1p();
        var collection = Enumerable.Range(0, CollectionBatches).Select(_ => randn(Documents, Vocabulary).sub(2.5).relu().log1p()).ToArray();
        var threshold = IndexPruning.CollectionThresholdForShare(collection, 0.3);
        Console.WriteLine(FormattableString.Invariant(
            $"input: {Documents} x {Vocabulary} float32, {SparsityMetrics.L0(docs):F0} non-zero per vector on average, k = {K}; collection threshold: {threshold.Passes} passes"));

        var variants = new (string Name, Action Call, double PerCall)[]
        {
            ("torch.topk (values and indices)", () => docs.abs().topk(K), 1),
            ("torch.topk + scatter (baseline)", () =>
            {
                var (_, index) = docs.abs().topk(K);
                zeros_like(docs).scatter(-1, index, docs.gather(-1, index));
            }, 1),
            ("StaticPruning.TopK", () => StaticPruning.TopK(docs, K), 1),
            ("StaticPruning.MaxRatio", () => StaticPruning.MaxRatio(docs, 0.3), 1),
            ("StaticPruning.WeightMass", () => StaticPruning.WeightMass(docs, 0.8), 1),
            ("StaticPruning.Threshold", () => StaticPruning.Threshold(docs, 0.5), 1),
            ("CollectionThreshold, per batch and pass", () => IndexPruning.CollectionThresholdForShare(collection, 0.3), CollectionBatches * threshold.Passes),
        };
        const int Baseline = 1;

        var seconds = RotatingRounds.Time(variants.Select(v => v.Call).ToArray(), rounds, CallsPerRound);
        for (var v = 0; v < variants.Length; v++)
        {
            seconds[v] = [.. seconds[v].Select(s => s / variants[v].PerCall)];
        }

        Console.WriteLine($"{"variant",-42} {"median",10} {"÷ topk+scatter [95% interval]",32}");
        for (var v = 0; v < variants.Length; v++)
        {
            var ratios = seconds[v].Zip(seconds[Baseline], (a, b) => a / b).ToArray();
            var (low, median, high) = RotatingRounds.MedianInterval(ratios);
            Console.WriteLine(FormattableString.Invariant(
                $"{variants[v].Name,-42} {RotatingRounds.Median(seconds[v]) * 1e3,8:F2} ms {median,10:F2} [{low:F2}, {high:F2}]"));
        }

        foreach (var batch in collection)
        {
            batch.Dispose();
        }

        return 0;
    }

    /// <summary>Parses <c>-- prune [rounds]</c>.</summary>
    public static int Run(string[] args)
        => Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15);
}
