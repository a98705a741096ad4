using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// The split-batch path at SPLADE shapes: collecting a part's statistics against a clone of the same tensors, and a
/// part's exact share (forward+backward) against the plain loss on the same part, in one run.
/// </summary>
public class SplitBatchBenchmarks : LossBenchmark
{
    private RegularizationStatistics total = null!;

    [GlobalSetup]
    public void Setup()
    {
        Prepare([32, 1, 30522], [256, 1, 30522]);
        // The whole batch: this part twice, as two micro-batches of the same size would give.
        using var scope = NewDisposeScope();
        var statistics = Regularizer.CollectStatistics(Output);
        total = statistics.Add(statistics).DetachFromDisposeScope();
    }

    /// <summary>Also the statistics; the base's <c>[GlobalCleanup]</c> attribute is inherited.</summary>
    public override void Cleanup()
    {
        total.Dispose();
        base.Cleanup();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Statistics")]
    public void CloneFloor_Statistics() => CloneBoth();

    [Benchmark, BenchmarkCategory("Statistics")]
    public void CollectStatistics()
    {
        using var scope = NewDisposeScope();
        Regularizer.CollectStatistics(Output);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("PartForwardBackward")]
    public void PlainLoss_ForwardBackward() => RegularizerForwardBackward();

    [Benchmark, BenchmarkCategory("PartForwardBackward")]
    public void ExactShare_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            Regularizer.ComputeLoss(Output, total).backward();
        }

        ClearGradients();
    }
}
