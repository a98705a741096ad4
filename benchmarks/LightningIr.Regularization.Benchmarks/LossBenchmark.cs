using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LightningIr.Regularization.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// What every loss benchmark shares: SPLADE-like query and document leaves that require grad, the regularizer under
/// test, two threads, and the two gradient modes: <c>Fresh</c> clears the gradients between forward+backward calls so that
/// each call allocates them, <c>Accumulated</c> keeps them so that each call adds into the existing <c>.grad</c> buffers
/// (what a loop that zeroes its gradients in place, or accumulates micro-batches, does).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public abstract class LossBenchmark
{
    [Params("L1", "L2", "FLOPS")]
    public string Loss { get; set; } = "FLOPS";

    [Params("Fresh", "Accumulated")]
    public string Gradients { get; set; } = "Fresh";

    protected Tensor Query { get; private set; } = null!;

    protected Tensor Doc { get; private set; } = null!;

    protected RegularizationLossFunction Regularizer { get; private set; } = null!;

    protected BiEncoderOutput Output { get; private set; } = null!;

    [GlobalCleanup]
    public virtual void Cleanup()
    {
        Query.Dispose();
        Doc.Dispose();
    }

    protected void Prepare(long[] queryShape, long[] docShape)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        Query = SpladeLike.Embeddings(queryShape);
        Doc = SpladeLike.Embeddings(docShape);
        Regularizer = Regularizers.Create(Loss);
        Output = new BiEncoderOutput(QueryEmbeddings: new(Query), DocEmbeddings: new(Doc));
    }

    /// <summary>A clone of both tensors: the memory-traffic floor of reading and writing the embeddings once.</summary>
    protected void CloneBoth()
    {
        using var scope = NewDisposeScope();
        Query.clone();
        Doc.clone();
    }

    /// <summary>One forward+backward of the regularizer on the whole output, then <see cref="ClearGradients"/>.</summary>
    protected void RegularizerForwardBackward()
    {
        using (var scope = NewDisposeScope())
        {
            Regularizer.ComputeLoss(Output).backward();
        }

        ClearGradients();
    }

    /// <summary>In <c>Fresh</c> mode, drops the gradients so that the next call allocates them; in <c>Accumulated</c> mode, keeps them.</summary>
    protected void ClearGradients()
    {
        if (Gradients == "Fresh")
        {
            Query.grad = null;
            Doc.grad = null;
        }
    }
}
