using System.Globalization;
using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// A sparsity budget's update in steady state against one forward+backward of the FLOPS regularizer, in one run
/// (<c>-- budget-update [rounds]</c>): the shapes of <see cref="BudgetBenchmarks"/> (32 queries and 256 documents ×
/// 30,522 terms, SPLADE-like float32), one budget updated again and again on the same batch. Variants: the regularizer
/// (the baseline), an L0 budget on both sides, a FLOPS budget, and the L0 budget's measurement alone (its tensor work,
/// without the host read and the law). Plain and small so that it builds against an older version of the library too:
/// the guide's comparison of control laws ran it in one build per version, alternated.
/// </summary>
public static class BudgetUpdateMode
{
    private const int CallsPerRound = 5;

    public static int Run(int rounds)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        using var query = SpladeLike.Embeddings([32, 1, 30522]);
        using var doc = SpladeLike.Embeddings([256, 1, 30522]);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        var regularizer = Regularizers.Create("FLOPS");
        var l0 = new SparsityBudget(Regularizers.Create("FLOPS"), queryL0: 30, docL0: 200);
        var flops = new SparsityBudget(Regularizers.Create("FLOPS"), flops: 5);
        var variants = new (string Name, Action Call)[]
        {
            ("FLOPS forward+backward (baseline)", () =>
            {
                regularizer.ComputeLoss(output).backward();
                query.grad = null;
                doc.grad = null;
            }),
            ("L0 budget update", () => l0.Update(output)),
            ("FLOPS budget update", () => flops.Update(output)),
            ("L0 budget measurement alone", () => l0.Measure(output)),
        };

        var seconds = RotatingRounds.Time(variants.Select(v => v.Call).ToArray(), rounds, CallsPerRound);
        Console.WriteLine($"{"variant",-36} {"median",10} {"÷ forward+backward [95% interval]",36}");
        for (var v = 0; v < variants.Length; v++)
        {
            var ratios = seconds[v].Zip(seconds[0], (a, b) => a / b).ToArray();
            var (low, median, high) = RotatingRounds.MedianInterval(ratios);
            Console.WriteLine(FormattableString.Invariant(
                $"{variants[v].Name,-36} {RotatingRounds.Median(seconds[v]) * 1e3,8:F3} ms {median,10:F4} [{low:F4}, {high:F4}]"));
        }

        return 0;
    }

    /// <summary>Parses <c>-- budget-update [rounds]</c>.</summary>
    public static int Run(string[] args)
        => Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 21);
}
