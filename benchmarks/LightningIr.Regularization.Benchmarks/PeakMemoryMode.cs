using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Peak resident memory of one forward+backward at SPLADE shapes (<c>-- peak</c>): for each loss, the literal Lightning IR
/// op sequence, the library, the library's split-batch shares (two halves of the batch, each its own leaf) and a clone of
/// the embeddings. Run it with <c>MALLOC_MMAP_THRESHOLD_=131072</c>: glibc then maps every large block fresh and returns it
/// on free, so resident memory follows the live buffers (by default freed blocks stay resident and the peak reads 0).
/// Linux's peak counter (<c>VmHWM</c>) is reset through <c>/proc/self/clear_refs</c> before each call, so the figure is
/// the call's own peak above the resident memory it started from, gradients included. Median of seven calls.
/// </summary>
public static class PeakMemoryMode
{
    private const int Calls = 7;

    public static int Run()
    {
        if (!File.Exists("/proc/self/clear_refs"))
        {
            Console.Error.WriteLine("Peak-memory mode needs Linux's /proc/self/clear_refs.");
            return 2;
        }

        torch.set_num_threads(2);
        manual_seed(0);
        using var query = SpladeLike.Embeddings(32, 1, 30522);
        using var doc = SpladeLike.Embeddings(256, 1, 30522);
        var embeddingMiB = (query.NumberOfElements + doc.NumberOfElements) * 4 / 1048576.0;
        Console.WriteLine($"embeddings: 32 + 256 vectors × 30,522 terms, float32 = {embeddingMiB:F1} MiB; peak increase of one forward+backward (fresh gradients), median of {Calls}");
        Console.WriteLine($"{"loss",-6} {"variant",-18} {"MiB",8} {"× embeddings",13}");
        foreach (var loss in new[] { "L1", "L2", "FLOPS" })
        {
            var regularizer = Regularizers.Create(loss);
            var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
            // Micro-batches as a split-batch user has them: separate leaves (views of one leaf would make each part's
            // backward write a whole-batch-sized gradient), sharing the embeddings' storage. Created in a scope and kept
            // out of it, to be disposed after the loss.
            (Tensor Query, Tensor Doc)[] parts;
            using (var partScope = NewDisposeScope())
            {
                parts = query.chunk(2).Zip(doc.chunk(2), (q, d) => (Query: q.detach().requires_grad_(), Doc: d.detach().requires_grad_())).ToArray();
                partScope.Detach(parts.SelectMany(p => new[] { p.Query, p.Doc }));
            }

            var variants = new (string Name, Action Call)[]
            {
                ("literal", () => LiteralLightningIr.Compute(loss, query, doc, regularizer.QueryWeight, regularizer.DocWeight).backward()),
                ("library", () => regularizer.ComputeLoss(output).backward()),
                ("split share", () => SplitShares(regularizer, parts)),
                ("clone", () => { query.clone(); doc.clone(); }),
            };
            foreach (var (name, call) in variants)
            {
                var peaks = new List<double>();
                for (var i = 0; i <= Calls; i++)
                {
                    var peak = Measure(() =>
                    {
                        using var scope = NewDisposeScope();
                        call();
                    });
                    query.grad = null;
                    doc.grad = null;
                    foreach (var part in parts)
                    {
                        part.Query.grad = null;
                        part.Doc.grad = null;
                    }
                    if (i > 0)
                    {
                        peaks.Add(peak / 1048576.0); // the first call warms up
                    }
                }

                var median = peaks.Order().ElementAt(peaks.Count / 2);
                Console.WriteLine($"{loss,-6} {name,-18} {median,8:F1} {median / embeddingMiB,13:F2}");
            }

            foreach (var part in parts)
            {
                part.Query.Dispose();
                part.Doc.Dispose();
            }
        }

        return 0;
    }

    /// <summary>Each half of the batch adds its exact share of the whole batch's regularizer.</summary>
    private static void SplitShares(RegularizationLossFunction regularizer, (Tensor Query, Tensor Doc)[] leaves)
    {
        var parts = leaves.Select(p => new BiEncoderOutput(QueryEmbeddings: new(p.Query), DocEmbeddings: new(p.Doc))).ToArray();
        using var total = RegularizationStatistics.Sum(parts.Select(regularizer.CollectStatistics).ToList());
        foreach (var part in parts)
        {
            regularizer.ComputeLoss(part, total).backward();
        }
    }

    /// <summary>Resets Linux's peak resident-memory counter (<c>VmHWM</c>) to the current resident memory.</summary>
    internal static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Measure(Action call)
    {
        GC.Collect();
        ResetPeak();
        var before = Status("VmRSS");
        call();
        return Status("VmHWM") - before;
    }

    /// <summary>A value of <c>/proc/self/status</c> in bytes (<c>VmRSS</c>, <c>VmHWM</c>).</summary>
    internal static long Status(string key)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(key + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
