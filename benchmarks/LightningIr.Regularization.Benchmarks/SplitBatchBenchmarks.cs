using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// The split-batch path at SPLADE shapes: collecting a part's statistics against a clone of the same tensors, and a
/// part's exact share (forward+backward) against the plain loss on the same part, in one run.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class SplitBatchBenchmarks
{
    private Tensor query = null!;
    private Tensor doc = null!;
    private RegularizationLossFunction loss = null!;
    private BiEncoderOutput part = null!;
    private RegularizationStatistics total = null!;

    [Params("L1", "L2", "FLOPS")]
    public string Loss { get; set; } = "FLOPS";

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        manual_seed(0);
        query = SpladeLike.Embeddings(32, 1, 30522);
        doc = SpladeLike.Embeddings(256, 1, 30522);
        loss = Regularizers.Create(Loss);
        part = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        // The whole batch: this part twice, as two micro-batches of the same size would give.
        using var scope = NewDisposeScope();
        var statistics = loss.CollectStatistics(part);
        total = statistics.Add(statistics).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        total.Dispose();
        query.Dispose();
        doc.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Statistics")]
    public void CloneFloor_Statistics()
    {
        using var scope = NewDisposeScope();
        query.clone();
        doc.clone();
    }

    [Benchmark, BenchmarkCategory("Statistics")]
    public void CollectStatistics()
    {
        using var scope = NewDisposeScope();
        loss.CollectStatistics(part);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("PartForwardBackward")]
    public void PlainLoss_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            loss.ComputeLoss(part).backward();
        }

        ClearGradients();
    }

    [Benchmark, BenchmarkCategory("PartForwardBackward")]
    public void ExactShare_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            loss.ComputeLoss(part, total).backward();
        }

        ClearGradients();
    }

    private void ClearGradients()
    {
        query.grad = null;
        doc.grad = null;
    }
}
