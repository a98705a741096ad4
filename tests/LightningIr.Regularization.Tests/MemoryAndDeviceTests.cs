namespace LightningIr.Regularization.Tests;

/// <summary>Native memory: nothing but the result stays alive, and the result belongs to the caller's scope.</summary>
public sealed class MemoryAndDeviceTests
{
    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Repeated_forward_and_backward_calls_leak_no_tensor(string name)
    {
        using var query = randn(8, 1, 64, requires_grad: true);
        using var doc = randn(16, 1, 64, requires_grad: true);
        var loss = TestLosses.Create(name);
        var output = TestLosses.Output(query, doc);

        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 500; i++)
        {
            using var scope = NewDisposeScope();
            loss.ComputeLoss(output).backward();
            loss.ComputeLossComponents(output).Total.backward();
        }

        for (var i = 0; i < 500; i++)
        {
            using var value = loss.ComputeLoss(output);
            using var components = loss.ComputeLossComponents(output);
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, DisposeScopeManager.Statistics.ToString());
        DisposeScopeManager.Statistics.CreatedInScopeCount.Should().BeGreaterThan(0, "the loss did compute something");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Only_the_result_stays_alive_and_it_joins_the_callers_scope(string name)
    {
        using var query = randn(4, 8, 4);
        using var doc = randn(4, 8, 4);
        var loss = TestLosses.Create(name);
        Tensor result;
        using (var scope = NewDisposeScope())
        {
            DisposeScopeManager.Statistics.Reset();
            result = loss.ComputeLoss(TestLosses.Output(query, doc));
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(1, "every intermediate is disposed before the call returns");
            result.IsInvalid.Should().BeFalse();
        }

        result.IsInvalid.Should().BeTrue("the caller's scope disposed the result");
    }

    [Fact]
    public void Components_join_the_callers_scope()
    {
        using var query = randn(4, 8, 4);
        using var doc = randn(4, 8, 4);
        RegularizationLossComponents components;
        using (var scope = NewDisposeScope())
        {
            DisposeScopeManager.Statistics.Reset();
            components = new FlopsRegularization().ComputeLossComponents(TestLosses.Output(query, doc));
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(3);
        }

        components.Query.IsInvalid.Should().BeTrue();
        components.Doc.IsInvalid.Should().BeTrue();
        components.Total.IsInvalid.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(TestLosses.AllWithFloatTypesOnEveryDevice), MemberType = typeof(TestLosses))]
    public void Result_has_the_embeddings_dtype_and_device_and_gradients_flow(string name, ScalarType dtype, string device)
    {
        using var scope = NewDisposeScope();
        var on = torch.device(device);
        var weights = randn(4, 6, dtype: dtype, device: on, requires_grad: true);
        var query = matmul(randn(3, 2, 4, dtype: dtype, device: on), weights);
        var doc = matmul(randn(5, 2, 4, dtype: dtype, device: on), weights).relu();

        var loss = TestLosses.Create(name).ComputeLoss(TestLosses.Output(query, doc));
        loss.backward();

        loss.dtype.Should().Be(dtype);
        loss.device.ToString().Should().Be(device);
        loss.requires_grad.Should().BeTrue();
        weights.grad!.abs().sum().to(ScalarType.Float64).item<double>().Should().BeGreaterThan(0, "the gradient reaches the model's parameters");
    }

    [Fact]
    public void Result_does_not_require_grad_for_constant_embeddings()
    {
        using var scope = NewDisposeScope();
        var loss = new L2Regularization().ComputeLoss(TestLosses.Output(ones(2, 3), ones(2, 3)));
        loss.requires_grad.Should().BeFalse();
    }

    [Fact]
    public void Different_dtypes_on_the_two_sides_promote_like_PyTorch()
    {
        using var scope = NewDisposeScope();
        var loss = new L1Regularization().ComputeLoss(TestLosses.Output(ones(2, 3, dtype: ScalarType.Float16), ones(2, 3, dtype: ScalarType.Float64)));
        loss.dtype.Should().Be(ScalarType.Float64);
    }

    /// <summary>
    /// PyTorch's meta device holds shapes without data, so tensors on two devices can be made on a machine with only a
    /// CPU: every check that two things share a device must refuse them.
    /// </summary>
    [Fact]
    public void Tensors_on_different_devices_are_refused_everywhere()
    {
        using var scope = NewDisposeScope();
        var meta = torch.device("meta");
        var cpu = rand(4, 1, 8);
        var elsewhere = rand(4, 1, 8, device: meta);
        var mask = ones(4, 1, dtype: ScalarType.Bool, device: meta);

        FluentActions.Invoking(() => new L1Regularization().ComputeLoss(cpu, elsewhere))
            .Should().Throw<ArgumentException>().WithMessage("Found the query embeddings on cpu and the document embeddings on meta; put both on one device.*");
        FluentActions.Invoking(() => new L1Regularization { UseScoringMask = true }.ComputeLoss(TestLosses.Output(cpu, cpu, mask)))
            .Should().Throw<ArgumentException>().WithMessage("Found the query scoring mask on meta and the query embeddings on cpu*");
        FluentActions.Invoking(() => new FlopsRegularization(docTermWeights: ones(8)).ComputeLoss(elsewhere, elsewhere))
            .Should().Throw<ArgumentException>().WithMessage("Found the document term weights on cpu and the document embeddings on meta*");
        FluentActions.Invoking(() => SparsityMetrics.Flops(cpu, elsewhere))
            .Should().Throw<ArgumentException>().WithParameterName("docEmbeddings").WithMessage("Found the query embeddings on cpu and the document embeddings on meta*");
        var statistics = new FlopsRegularization().CollectStatistics(TestLosses.Output(cpu, cpu));
        FluentActions.Invoking(() => new FlopsRegularization().ComputeLoss(TestLosses.Output(elsewhere, elsewhere), statistics))
            .Should().Throw<ArgumentException>().WithParameterName("total").WithMessage("Found the statistics on cpu and the part's embeddings on meta*");
        using var estimator = new DocumentFrequencyEstimator();
        estimator.Add(cpu);
        FluentActions.Invoking(() => estimator.Add(elsewhere))
            .Should().Throw<ArgumentException>().WithMessage("Found the embeddings on meta and the estimator's counts on cpu*");
        var plain = new L1Regularization(); // its statistics read no data, which meta tensors do not have
        var onCpu = plain.CollectStatistics(TestLosses.Output(cpu, cpu));
        FluentActions.Invoking(() => onCpu.Add(plain.CollectStatistics(TestLosses.Output(elsewhere, elsewhere))))
            .Should().Throw<ArgumentException>().WithParameterName("other").WithMessage("Found the statistics on cpu and the other statistics on meta*");
    }
}
