using BenchmarkDotNet.Attributes;
using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Forward and forward+backward cost of each loss, against the literal Lightning IR op sequence
/// (the baseline) and a clone of the same tensors (the memory-bandwidth floor), in one run.
/// </summary>
public class RegularizationBenchmarks : LossBenchmark
{
    /// <summary>SPLADE: 32 queries and 256 documents over a 30,522-term vocabulary; Tiny: Lightning IR's 4×8×4 test.</summary>
    [Params("SPLADE", "Tiny")]
    public string Shape { get; set; } = "SPLADE";

    [GlobalSetup]
    public void Setup()
    {
        (long[] q, long[] d) = Shape == "SPLADE" ? (new long[] { 32, 1, 30522 }, new long[] { 256, 1, 30522 }) : ([4, 8, 4], [4, 8, 4]);
        Prepare(q, d);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Forward")]
    public void LightningIrLiteral_Forward()
    {
        using var scope = NewDisposeScope();
        LiteralLightningIr.Compute(Loss, Query, Doc, Regularizer.QueryWeight, Regularizer.DocWeight);
    }

    [Benchmark, BenchmarkCategory("Forward")]
    public void Library_Forward()
    {
        using var scope = NewDisposeScope();
        Regularizer.ComputeLoss(Output);
    }

    [Benchmark, BenchmarkCategory("Forward")]
    public void CloneFloor_Forward() => CloneBoth();

    [Benchmark(Baseline = true), BenchmarkCategory("ForwardBackward")]
    public void LightningIrLiteral_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            LiteralLightningIr.Compute(Loss, Query, Doc, Regularizer.QueryWeight, Regularizer.DocWeight).backward();
        }

        ClearGradients();
    }

    [Benchmark, BenchmarkCategory("ForwardBackward")]
    public void Library_ForwardBackward() => RegularizerForwardBackward();

    [Benchmark, BenchmarkCategory("ForwardBackward")]
    public void CloneFloor_ForwardBackward() => CloneBoth();
}
