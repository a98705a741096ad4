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
        using var soak = new Soak();
        soak.Run(1500);
        DisposeScopeManager.Statistics.Reset();
        var warm = Soak.Rss();
        soak.Run(6000);
        var after = Soak.Rss();

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
        ((double)(after - warm) / warm).Should().BeLessThan(0.10, $"resident memory went from {warm / 1048576} MiB to {after / 1048576} MiB");
    }
}
