using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// One SPLADE-shaped training step on the CPU, with and without each regularizer, in one run
/// (<c>-- step [docTokens] [repeats]</c>). The model: a token embedding of width 128, a tanh hidden layer and an MLM head
/// over 30,522 terms giving <c>[batch, L, V]</c>, log(1 + ReLU), the max over L. The step: 32 queries of 16 tokens and
/// 64 documents of <c>docTokens</c> tokens (64 by default), in-batch cross-entropy (query i's positive is document i,
/// the other 63 its negatives), backward, an SGD step. Variants: no regularizer, each loss on the whole batch, and each
/// loss on the split path (the statistics of two halves, then each half's exact share). Whole steps are timed
/// interleaved, the median of <c>repeats</c> (5 by default) after one warm-up round. Because a whole step's noise is
/// larger than the regularizer, the regularizer's own forward+backward is also timed alone, on leaves holding the step's
/// pooled embeddings with gradients accumulating (as the step's gradient adds into the pooled embeddings'), median of
/// 30 calls, and its share is that time over the unregularized step's. Memory: the step's peak resident memory above
/// the memory it started from, and the regularizer's own peak on the same leaves. Run it with
/// <c>MALLOC_MMAP_THRESHOLD_=131072</c> so that resident memory follows live buffers (see <see cref="PeakMemoryMode"/>).
/// Last, a sparsity budget's update on the same pooled embeddings (L0 targets on both sides, and a FLOPS target), and its
/// finiteness witness alone, each as a share of the unregularized step.
/// </summary>
public static class StepMode
{
    private const long Vocabulary = 30522;
    private const long Width = 128;
    private const long Queries = 32;
    private const long QueryTokens = 16;
    private const long Documents = 64;
    private const int RegularizerCalls = 30;

    public static int Run(long docTokens, int repeats)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        var embedding = nn.Embedding(Vocabulary, Width);
        var hidden = nn.Linear(Width, Width);
        var head = nn.Linear(Width, Vocabulary);
        var parameters = embedding.parameters().Concat(hidden.parameters()).Concat(head.parameters()).ToList();
        var optimizer = optim.SGD(parameters, 1e-3);
        using var queryTokens = randint(Vocabulary, [Queries, QueryTokens]);
        using var docTokensTensor = randint(Vocabulary, [Documents, docTokens]);
        using var targets = arange(Queries);

        Tensor Encode(Tensor tokens) => head.call(hidden.call(embedding.call(tokens)).tanh()).relu().log1p().amax([1]);

        var variants = new List<(string Name, RegularizationLossFunction? Loss, bool Split)> { ("none", null, false) };
        foreach (var name in new[] { "L1", "L2", "FLOPS" })
        {
            variants.Add((name, TestSupport.Regularizers.Create(name), false));
            variants.Add((name + " split", TestSupport.Regularizers.Create(name), true));
        }

        (double Seconds, long PeakBytes) Step((string Name, RegularizationLossFunction? Loss, bool Split) variant)
        {
            GC.Collect();
            PeakMemoryMode.ResetPeak();
            var before = PeakMemoryMode.Status("VmRSS");
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var queries = Encode(queryTokens);
                var docs = Encode(docTokensTensor);
                var loss = nn.functional.cross_entropy(queries.matmul(docs.T), targets);
                if (variant.Loss is { } regularizer)
                {
                    loss = loss.add(variant.Split ? SplitLoss(regularizer, queries, docs) : regularizer.ComputeLoss(queries.unsqueeze(1), docs.unsqueeze(1)));
                }

                loss.backward();
                optimizer.step();
            }

            clock.Stop();
            return (clock.Elapsed.TotalSeconds, PeakMemoryMode.Status("VmHWM") - before);
        }

        Console.WriteLine($"SPLADE-shaped step: {Queries} queries × {QueryTokens} tokens, {Documents} documents × {docTokens} tokens, V = {Vocabulary:N0}, width {Width}, 2 threads; medians of {repeats}");
        var times = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var peaks = variants.ToDictionary(v => v.Name, _ => new List<long>());
        for (var round = 0; round <= repeats; round++)
        {
            foreach (var variant in variants)
            {
                var (seconds, peak) = Step(variant);
                if (round > 0)
                {
                    times[variant.Name].Add(seconds);
                    peaks[variant.Name].Add(peak);
                }
            }
        }

        // The step's own pooled embeddings, as leaves for timing the regularizer alone.
        Tensor pooledQueries, pooledDocs;
        using (no_grad())
        {
            pooledQueries = Encode(queryTokens).unsqueeze(1).detach().requires_grad_();
            pooledDocs = Encode(docTokensTensor).unsqueeze(1).detach().requires_grad_();
        }

        var plain = Median(times["none"]);
        var plainPeak = Median(peaks["none"]);
        Console.WriteLine($"{"variant",-12} {"step ms",10} {"Δ step",8} {"step peak MiB",14} {"reg. ms",9} {"reg. share",11} {"reg. peak MiB",14} {"reg. peak share",16}");
        foreach (var variant in variants)
        {
            var step = Median(times[variant.Name]);
            var peak = Median(peaks[variant.Name]);
            var line = $"{variant.Name,-12} {step * 1e3,10:F0} {(step / plain) - 1,8:P1} {peak / 1048576.0,14:F1}";
            if (variant.Loss is { } regularizer)
            {
                var (alone, alonePeak) = Alone(regularizer, variant.Split, pooledQueries, pooledDocs);
                line += $" {alone * 1e3,9:F2} {alone / plain,11:P2} {alonePeak / 1048576.0,14:F1} {(double)alonePeak / plainPeak,16:P2}";
            }

            Console.WriteLine(line);
        }

        // A sparsity budget's update on the same pooled embeddings (it reads them without gradient), and the part of it
        // that the finiteness witness costs: the smallest and largest entry of each side.
        var output = new BiEncoderOutput(QueryEmbeddings: new(pooledQueries), DocEmbeddings: new(pooledDocs));
        var budgets = new (string Name, Action Call)[]
        {
            ("budget L0 update", () => new SparsityBudget(TestSupport.Regularizers.Create("FLOPS"), queryL0: 30, docL0: 200).Update(output)),
            ("budget FLOPS update", () => new SparsityBudget(TestSupport.Regularizers.Create("FLOPS"), flops: 5).Update(output)),
            ("  its witness", () =>
            {
                using var noGrad = no_grad();
                var (queryLow, queryHigh) = pooledQueries.aminmax();
                var (docLow, docHigh) = pooledDocs.aminmax();
                queryLow.add(queryHigh).add(docLow).add(docHigh).item<float>();
            }),
        };
        foreach (var (name, call) in budgets)
        {
            var seconds = new List<double>();
            for (var i = 0; i <= RegularizerCalls; i++)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                call();
                if (i > 0)
                {
                    seconds.Add(clock.Elapsed.TotalSeconds);
                }
            }

            Console.WriteLine($"{name,-22} {Median(seconds) * 1e3,9:F2} ms {Median(seconds) / plain,11:P2} of the unregularized step");
        }

        pooledQueries.Dispose();
        pooledDocs.Dispose();
        return 0;
    }

    /// <summary>The split path on the step's pooled embeddings: the statistics of both halves, then both exact shares.</summary>
    private static Tensor SplitLoss(RegularizationLossFunction regularizer, Tensor queries, Tensor docs)
    {
        var parts = queries.unsqueeze(1).chunk(2).Zip(docs.unsqueeze(1).chunk(2), (q, d) => new BiEncoderOutput(QueryEmbeddings: new(q), DocEmbeddings: new(d))).ToArray();
        var total = RegularizationStatistics.Sum(parts.Select(regularizer.CollectStatistics).ToList());
        return regularizer.ComputeLoss(parts[0], total).add(regularizer.ComputeLoss(parts[1], total));
    }

    /// <summary>The regularizer's forward+backward alone (median seconds of <see cref="RegularizerCalls"/>) and its peak (median bytes of 7).</summary>
    private static (double Seconds, long PeakBytes) Alone(RegularizationLossFunction regularizer, bool split, Tensor queries, Tensor docs)
    {
        Tensor[] leaves;
        using (no_grad())
        {
            leaves = split ? [.. queries.chunk(2).Concat(docs.chunk(2)).Select(t => t.detach().clone().requires_grad_())] : [queries, docs];
        }

        void Call()
        {
            using var scope = NewDisposeScope();
            if (split)
            {
                var parts = new[] { (leaves[0], leaves[2]), (leaves[1], leaves[3]) }
                    .Select(p => new BiEncoderOutput(QueryEmbeddings: new(p.Item1), DocEmbeddings: new(p.Item2))).ToArray();
                var total = RegularizationStatistics.Sum(parts.Select(regularizer.CollectStatistics).ToList());
                regularizer.ComputeLoss(parts[0], total).add(regularizer.ComputeLoss(parts[1], total)).backward();
            }
            else
            {
                regularizer.ComputeLoss(leaves[0], leaves[1]).backward();
            }
        }

        Call(); // the leaves' gradients exist from here on and accumulate, as the pooled embeddings' gradient does in the step
        var seconds = new List<double>();
        for (var i = 0; i < RegularizerCalls; i++)
        {
            var clock = Stopwatch.StartNew();
            Call();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }

        var peaks = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            GC.Collect();
            PeakMemoryMode.ResetPeak();
            var before = PeakMemoryMode.Status("VmRSS");
            Call();
            peaks.Add(PeakMemoryMode.Status("VmHWM") - before);
        }

        foreach (var leaf in leaves)
        {
            leaf.grad = null;
            if (split)
            {
                leaf.Dispose();
            }
        }

        return (Median(seconds), Median(peaks));
    }

    private static T Median<T>(List<T> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>Parses <c>-- step [docTokens] [repeats]</c>.</summary>
    public static int Run(string[] args) => Run(
        args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 64,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
}
