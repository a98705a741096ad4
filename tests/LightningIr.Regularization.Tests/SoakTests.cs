using System.Diagnostics;

namespace LightningIr.Regularization.Tests;

/// <summary>Runs alone, so that the resident-memory reading is this test's own.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>
/// The short CI version of the benchmarks' soak mode (<c>-- soak 100000</c>): thousands of forward+backward
/// calls across the three losses leave no tensor alive and resident memory flat.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class SoakTests
{
    [Fact]
    public void Thousands_of_training_calls_leak_no_tensor_and_keep_memory_flat()
    {
        using var query = SpladeLike(32, 1, 2048);
        using var doc = SpladeLike(64, 1, 2048);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        RegularizationLossFunction[] losses = [new L1Regularization(), new L2Regularization(), new FlopsRegularization()];
        void Calls(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using (var scope = NewDisposeScope())
                {
                    losses[i % losses.Length].ComputeLoss(output).backward();
                }

                query.grad = null;
                doc.grad = null;
            }
        }

        Calls(1500);
        DisposeScopeManager.Statistics.Reset();
        var warm = Rss();
        Calls(6000);
        var after = Rss();

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
        ((double)(after - warm) / warm).Should().BeLessThan(0.10, $"resident memory went from {warm / 1048576} MiB to {after / 1048576} MiB");
    }

    private static Tensor SpladeLike(params long[] shape)
    {
        using var scope = NewDisposeScope();
        return randn(shape).sub(1.5).relu().log1p().requires_grad_().MoveToOuterDisposeScope();
    }

    private static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
