using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Forward and forward+backward cost of each loss, against the literal Lightning IR op sequence
/// (the baseline) and a clone of the same tensors (the memory-bandwidth floor), in one run.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class RegularizationBenchmarks
{
    private Tensor query = null!;
    private Tensor doc = null!;
    private RegularizationLossFunction loss = null!;
    private BiEncoderOutput output = null!;

    /// <summary>SPLADE: 32 queries and 256 documents over a 30,522-term vocabulary; Tiny: Lightning IR's 4×8×4 test.</summary>
    [Params("SPLADE", "Tiny")]
    public string Shape { get; set; } = "SPLADE";

    [Params("L1", "L2", "FLOPS")]
    public string Loss { get; set; } = "FLOPS";

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        manual_seed(0);
        (long[] q, long[] d) = Shape == "SPLADE" ? (new long[] { 32, 1, 30522 }, new long[] { 256, 1, 30522 }) : ([4, 8, 4], [4, 8, 4]);
        query = SpladeLike.Embeddings(q);
        doc = SpladeLike.Embeddings(d);
        loss = Regularizers.Create(Loss);
        output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        query.Dispose();
        doc.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Forward")]
    public void LightningIrLiteral_Forward()
    {
        using var scope = NewDisposeScope();
        LiteralLightningIr.Compute(Loss, query, doc, loss.QueryWeight, loss.DocWeight);
    }

    [Benchmark, BenchmarkCategory("Forward")]
    public void Library_Forward()
    {
        using var scope = NewDisposeScope();
        loss.ComputeLoss(output);
    }

    [Benchmark, BenchmarkCategory("Forward")]
    public void CloneFloor_Forward() => CloneBoth();

    [Benchmark(Baseline = true), BenchmarkCategory("ForwardBackward")]
    public void LightningIrLiteral_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            LiteralLightningIr.Compute(Loss, query, doc, loss.QueryWeight, loss.DocWeight).backward();
        }

        ClearGradients();
    }

    [Benchmark, BenchmarkCategory("ForwardBackward")]
    public void Library_ForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            loss.ComputeLoss(output).backward();
        }

        ClearGradients();
    }

    [Benchmark, BenchmarkCategory("ForwardBackward")]
    public void CloneFloor_ForwardBackward() => CloneBoth();

    private void CloneBoth()
    {
        using var scope = NewDisposeScope();
        query.clone();
        doc.clone();
    }

    private void ClearGradients()
    {
        query.grad = null;
        doc.grad = null;
    }
}
