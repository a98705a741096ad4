using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.InternalTests;

/// <summary>
/// The refusal of float64 work on a device without float64 (TorchSharp's MPS). No MPS device exists here, so the check is
/// called with the device alone, and the paths that call it are driven on <c>meta</c> with meta listed as such a device.
/// </summary>
public sealed class Float64DeviceTests
{
    [Fact]
    public void Mps_is_refused_with_the_device_and_what_to_do()
    {
        var mps = new Device(DeviceType.MPS);
        FluentActions.Invoking(() => Guard.CheckFloat64(mps, "Split-batch statistics", "compute each whole batch's loss", "output"))
            .Should().Throw<NotSupportedException>().WithMessage("Split-batch statistics are float64, which the mps* device does not support (output is on it): compute each whole batch's loss.");
    }

    [Theory]
    [InlineData(DeviceType.CPU)]
    [InlineData(DeviceType.CUDA)]
    [InlineData(DeviceType.META)]
    public void Devices_with_float64_pass(DeviceType type) =>
        FluentActions.Invoking(() => Guard.CheckFloat64(new Device(type), "x", "y", "z")).Should().NotThrow();

    [Fact]
    public void The_statistics_and_the_budgets_counts_refuse_such_a_device_before_computing()
    {
        using var scope = NewDisposeScope();
        var meta = device("meta");
        var output = new BiEncoderOutput(QueryEmbeddings: new(zeros(2, 8, device: meta)), DocEmbeddings: new(zeros(3, 8, device: meta)));
        Guard.WithoutFloat64.Add(DeviceType.META);
        try
        {
            FluentActions.Invoking(() => new FlopsRegularization().CollectStatistics(output)).Should().Throw<NotSupportedException>()
                .WithMessage("Split-batch statistics are float64, which the meta device does not support (output is on it): compute each whole batch's loss with ComputeLoss, or split the batch on the CPU or a CUDA device.");
            FluentActions.Invoking(() => new SparsityBudget(new L1Regularization(), docL0: 2).Measure(output)).Should().Throw<NotSupportedException>()
                .WithMessage("A sparsity budget's counts are float64, which the meta device does not support (output is on it): measure a CPU copy of the embeddings (the budget reads them without gradient).");
        }
        finally
        {
            Guard.WithoutFloat64.Remove(DeviceType.META);
        }

        FluentActions.Invoking(() => Guard.CheckFloat64(meta, "x", "y", "z")).Should().NotThrow("meta has float64 again");
    }
}
