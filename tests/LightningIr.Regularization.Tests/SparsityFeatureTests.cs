namespace LightningIr.Regularization.Tests;

/// <summary>FLOPS thresholds, scoring masks and sparsity metrics.</summary>
public sealed class SparsityFeatureTests
{
    [Fact]
    public void Threshold_leaves_sparse_vectors_out_and_gives_them_no_gradient()
    {
        using var scope = NewDisposeScope();
        // Row 0 has 1 non-zero entry, row 1 has 3: threshold 1 keeps only row 1.
        var doc = tensor(new double[] { 0, 2, 0, 0, 1, 1, 1, 0 }, [2, 4]).requires_grad_();
        var query = zeros(1, 4, dtype: ScalarType.Float64);
        var loss = new FlopsRegularization(0, 1, docThreshold: 1);

        var value = loss.ComputeLoss(TestLosses.Output(query, doc));
        value.backward();

        // The batch mean still divides by 2: Σ (x/2)² over row 1 = 3 · 0.25.
        value.item<double>().Should().BeApproximately(0.75, 1e-15);
        doc.grad![0].eq(0).all().item<bool>().Should().BeTrue();
        doc.grad![1].ne(0).sum().item<long>().Should().Be(3);
    }

    [Fact]
    public void Null_threshold_is_exactly_Lightning_IR()
    {
        using var scope = NewDisposeScope();
        var x = randn(5, 1, 9).relu();
        var plain = new FlopsRegularization(1, 1).ComputeLoss(TestLosses.Output(x, x));
        var withNull = new FlopsRegularization(1, 1, null, null).ComputeLoss(TestLosses.Output(x, x));
        plain.equal(withNull).item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Negative_thresholds_are_refused()
    {
        FluentActions.Invoking(() => new FlopsRegularization(queryThreshold: -1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryThreshold");
        FluentActions.Invoking(() => new FlopsRegularization(docThreshold: -3))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("docThreshold");
    }

    [Fact]
    public void Masked_vectors_count_for_nothing_in_L1_and_L2()
    {
        using var scope = NewDisposeScope();
        // Two sequences of three vectors; the padding vectors hold large values that must not count.
        var query = tensor(new double[] { 3, 4, 1, 0, 100, 100, 0, 0, 0, 5, 100, 100 }, [2, 3, 2]);
        var mask = tensor(new[] { true, true, false, true, true, false }, [2, 3]);
        var doc = tensor(new double[] { 1, 0 }, [1, 1, 2]);

        var l2 = new L2Regularization(1, 0) { UseScoringMask = true }.ComputeLoss(TestLosses.Output(query, doc, mask));
        var l1 = new L1Regularization(1, 0) { UseScoringMask = true }.ComputeLoss(TestLosses.Output(query, doc, mask));

        l2.item<double>().Should().BeApproximately((5 + 1 + 0 + 5) / 4.0, 1e-15);
        l1.item<double>().Should().BeApproximately((7 + 1 + 0 + 5) / 4.0, 1e-15);
    }

    [Fact]
    public void Masked_vectors_are_zeros_for_FLOPS_and_the_mask_is_ignored_when_off()
    {
        using var scope = NewDisposeScope();
        var query = tensor(new double[] { 1, 2, 9, 9, 3, 0, 9, 9 }, [2, 2, 2]);
        var mask = tensor(new[] { true, false, true, false }, [2, 2]);
        var doc = zeros(1, 2, 2, dtype: ScalarType.Float64);

        var masked = new FlopsRegularization(1, 0) { UseScoringMask = true }.ComputeLoss(TestLosses.Output(query, doc, mask));
        var unmasked = new FlopsRegularization(1, 0).ComputeLoss(TestLosses.Output(query, doc, mask));

        // Position 0: mean(|[1,2]|, |[3,0]|) = [2, 1]; position 1 is all padding → 0.
        masked.item<double>().Should().BeApproximately(4 + 1, 1e-15);
        unmasked.item<double>().Should().BeApproximately(4 + 1 + 81 + 81, 1e-15);
    }

    [Fact]
    public void A_side_with_no_real_vector_costs_zero_not_NaN()
    {
        using var scope = NewDisposeScope();
        var query = ones(2, 3, 4, dtype: ScalarType.Float64);
        var mask = zeros(2, 3, dtype: ScalarType.Bool);
        var value = new L2Regularization(1, 0) { UseScoringMask = true }.ComputeLoss(TestLosses.Output(query, query, mask));
        value.item<double>().Should().Be(0);
    }

    [Fact]
    public void Masks_of_the_wrong_shape_dtype_or_device_are_refused()
    {
        using var scope = NewDisposeScope();
        var x = ones(2, 3, 4);
        var loss = new L1Regularization { UseScoringMask = true };

        FluentActions.Invoking(() => loss.ComputeLoss(TestLosses.Output(x, x, ones(2, 4, dtype: ScalarType.Bool))))
            .Should().Throw<ArgumentException>().WithMessage("*query scoring mask must have shape [2, 3]*has shape [2, 4]*");
        FluentActions.Invoking(() => loss.ComputeLoss(TestLosses.Output(x, x, null, ones(2, 3))))
            .Should().Throw<ArgumentException>().WithMessage("*document scoring mask must be a boolean tensor*Float32*");
    }

    [Theory]
    [InlineData("splade-2d")]
    [InlineData("splade-3d")]
    [InlineData("dense")]
    [InlineData("multi-vector")]
    [InlineData("all-zero")]
    public void Metrics_match_PyTorch(string name)
    {
        var c = Fixtures.Metric(name);
        using var query = c.Query.ToTensor(ScalarType.Float32);
        using var doc = c.Doc.ToTensor(ScalarType.Float32);

        SparsityMetrics.L0(query).Should().BeApproximately(c.QueryL0, 1e-12);
        SparsityMetrics.L0(doc).Should().BeApproximately(c.DocL0, 1e-12);
        SparsityMetrics.SparsityRatio(query).Should().BeApproximately(c.QuerySparsityRatio, 1e-12);
        SparsityMetrics.SparsityRatio(doc).Should().BeApproximately(c.DocSparsityRatio, 1e-12);
        SparsityMetrics.Flops(query, doc).Should().BeApproximately(c.Flops, 1e-12);
    }

    [Fact]
    public void Metrics_leave_nothing_alive()
    {
        using var x = randn(4, 1, 16, requires_grad: true);
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 100; i++)
        {
            _ = SparsityMetrics.L0(x) + SparsityMetrics.SparsityRatio(x) + SparsityMetrics.Flops(x, x);
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }

    [Fact]
    public void Metrics_refuse_bad_input()
    {
        using var a = ones(2, 4);
        using var b = ones(2, 5);
        using var flat = ones(4);
        FluentActions.Invoking(() => SparsityMetrics.L0(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => SparsityMetrics.L0(flat)).Should().Throw<ArgumentException>().WithMessage("*rank 2 or more*");
        FluentActions.Invoking(() => SparsityMetrics.Flops(a, b)).Should().Throw<ArgumentException>().WithMessage("*same length*4 and 5*");
    }
}
