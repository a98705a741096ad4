namespace LightningIr.Regularization.Tests;

/// <summary>DF-FLOPS: per-term FLOPS weights, the document-frequency estimator and the activation.</summary>
public sealed class TermWeightTests
{
    public static TheoryData<int> ActivationCases => new(Enumerable.Range(0, Fixtures.DocumentFrequencyWeights.Count));

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void Activation_matches_PyTorch_and_is_half_at_alpha(int index)
    {
        var c = Fixtures.DocumentFrequencyWeights[index];
        using var scope = NewDisposeScope();
        var weights = TermWeighting.DocumentFrequencyWeights(tensor(c.Fractions, ScalarType.Float64), c.Alpha, c.Beta);

        Tolerance.AssertClose(GoldenParityTests.Values(weights), c.Expected, ScalarType.Float64, c.ToString());
        TermWeighting.DocumentFrequencyWeights(tensor(new[] { c.Alpha }, ScalarType.Float64), c.Alpha, c.Beta).item<double>()
            .Should().BeApproximately(0.5, 1e-12);
    }

    [Theory]
    [InlineData(0.1, 1.0)]
    [InlineData(0.3, 2.0)]
    [InlineData(0.02, 8.0)]
    public void Activation_rises_from_0_at_0_to_1_at_1_without_NaN(double alpha, double beta)
    {
        using var scope = NewDisposeScope();
        var x = linspace(0, 1, 2001, dtype: ScalarType.Float32);
        var w = TermWeighting.DocumentFrequencyWeights(x, alpha, beta);

        w.dtype.Should().Be(ScalarType.Float32);
        w.shape.Should().Equal(2001);
        w.isnan().any().item<bool>().Should().BeFalse();
        w[0].item<float>().Should().Be(0);
        w[-1].item<float>().Should().Be(1);
        w[1..].sub(w[..^1]).lt(0).any().item<bool>().Should().BeFalse("the weight never falls as the document frequency grows");
        w.gt(0).logical_and(w.lt(1)).any().item<bool>().Should().BeTrue("it passes through the interior");
        TermWeighting.DocumentFrequencyWeights(x.requires_grad_(), alpha, beta).requires_grad.Should().BeFalse("weights are constants");
    }

    [Theory]
    [InlineData(0.0, 1.0, "alpha")]
    [InlineData(1.0, 1.0, "alpha")]
    [InlineData(-0.2, 1.0, "alpha")]
    [InlineData(double.NaN, 1.0, "alpha")]
    [InlineData(0.5, 0.0, "beta")]
    [InlineData(0.5, -1.0, "beta")]
    [InlineData(0.5, double.PositiveInfinity, "beta")]
    [InlineData(0.5, double.NaN, "beta")]
    public void Activation_refuses_alpha_and_beta_out_of_range(double alpha, double beta, string parameter)
    {
        using var x = tensor(new[] { 0.5 });
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(x, alpha, beta))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);
    }

    [Fact]
    public void Activation_refuses_fractions_outside_0_to_1_and_bad_tensors()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(tensor(new[] { 0.2, 1.5 }), 0.5, 1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fractions");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(tensor(new[] { -0.1 }), 0.5, 1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fractions");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(tensor(new[] { double.NaN }), 0.5, 1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fractions");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(tensor(new[] { 1L }), 0.5, 1))
            .Should().Throw<ArgumentException>().WithMessage("*floating-point*");
        var disposed = tensor(new[] { 0.5 });
        disposed.Dispose();
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(disposed, 0.5, 1))
            .Should().Throw<ArgumentException>().WithMessage("*disposed*");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(null!, 0.5, 1)).Should().Throw<ArgumentNullException>();
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Weights_of_all_ones_give_exactly_the_unweighted_loss(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var query = SplitBatchTests.SpladeLike([6, 1, 24], dtype, seed: 40);
        var doc = SplitBatchTests.SpladeLike([9, 1, 24], dtype, seed: 41);
        var output = TestLosses.Output(query, doc);
        var plain = new FlopsRegularization(0.3, 0.7, docThreshold: 2).ComputeLoss(output);
        var weighted = new FlopsRegularization(0.3, 0.7, docThreshold: 2, queryTermWeights: ones(24), docTermWeights: ones(1, 24)).ComputeLoss(output);
        weighted.equal(plain).item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Weights_scale_each_terms_squared_mean_and_receive_no_gradient()
    {
        using var scope = NewDisposeScope();
        // Column means of the documents: term 0 → 1, term 1 → 2, term 2 → 0.
        var doc = tensor(new double[] { 1, 4, 0, 1, 0, 0 }, [2, 3]).requires_grad_();
        var weights = tensor(new double[] { 0.5, 0.25, 9 }).requires_grad_();
        var loss = new FlopsRegularization(0, 1, docTermWeights: weights);

        var value = loss.ComputeLoss(TestLosses.Output(zeros(1, 3, dtype: ScalarType.Float64), doc));
        value.backward();

        value.item<double>().Should().Be((0.5 * 1) + (0.25 * 4));
        weights.grad.Should().BeNull("the weights are constants of the loss");
        // w · 2 · mean / n · sign(x); zero entries get the subgradient 0.
        GoldenParityTests.Values(doc.grad!).Should().Equal(0.5 * 2 * 1 / 2, 0.25 * 2 * 2 / 2, 0, 0.5 * 2 * 1 / 2, 0, 0);
    }

    [Fact]
    public void Weights_can_be_replaced_between_steps_and_are_read_when_the_loss_computes()
    {
        using var scope = NewDisposeScope();
        var x = SplitBatchTests.SpladeLike([6, 16], ScalarType.Float64, seed: 42);
        var output = TestLosses.Output(x, x);
        var loss = new FlopsRegularization(1, 1);
        var plain = loss.ComputeLoss(output).item<double>();

        loss.QueryTermWeights = full(16, 2.0, dtype: ScalarType.Float64);
        loss.DocTermWeights = full(16, 3.0, dtype: ScalarType.Float64);
        // Both sides hold the same vectors, so each side is half the plain loss.
        loss.ComputeLoss(output).item<double>().Should().BeApproximately(2.5 * plain, 1e-13 * plain);

        loss.QueryTermWeights = null;
        loss.ComputeLoss(output).item<double>().Should().BeApproximately(2 * plain, 1e-13 * plain);
        loss.DocTermWeights!.fill_(0);
        loss.ComputeLoss(output).item<double>().Should().BeApproximately(plain / 2, 1e-13 * plain, "half the plain loss is the query side");
    }

    [Fact]
    public void Bad_weights_are_refused_when_set_and_the_old_value_is_kept()
    {
        using var scope = NewDisposeScope();
        var good = ones(8);
        var loss = new FlopsRegularization(docTermWeights: good);
        var disposed = ones(8);
        disposed.Dispose();

        foreach (var (bad, exception) in new (Tensor, Type)[]
        {
            (tensor(new[] { 1.0, -0.5 }), typeof(ArgumentOutOfRangeException)),
            (tensor(new[] { 1.0, double.NaN }), typeof(ArgumentOutOfRangeException)),
            (tensor(new[] { double.PositiveInfinity }), typeof(ArgumentOutOfRangeException)),
            (ones(8, dtype: ScalarType.Int64), typeof(ArgumentException)),
            (disposed, typeof(ArgumentException)),
        })
        {
            var act = () => loss.DocTermWeights = bad;
            act.Should().Throw<ArgumentException>().Which.Should().BeOfType(exception);
            act.Should().Throw<ArgumentException>().WithParameterName(nameof(FlopsRegularization.DocTermWeights));
            loss.DocTermWeights.Should().BeSameAs(good);
        }

        FluentActions.Invoking(() => new FlopsRegularization(queryTermWeights: tensor(new[] { -1.0 })))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryTermWeights");
        FluentActions.Invoking(() => new FlopsRegularization(docTermWeights: ones(2, dtype: ScalarType.Bool)))
            .Should().Throw<ArgumentException>().WithParameterName("docTermWeights");
    }

    [Fact]
    public void Weights_that_do_not_fit_the_embeddings_are_refused_at_compute()
    {
        using var scope = NewDisposeScope();
        var output = TestLosses.Output(rand(4, 1, 8), rand(5, 1, 8));
        foreach (var shape in new long[][] { [9], [2, 8], [1, 1, 8] })
        {
            var loss = new FlopsRegularization(queryTermWeights: ones(shape));
            FluentActions.Invoking(() => loss.ComputeLoss(output))
                .Should().Throw<ArgumentException>().WithParameterName("output").WithMessage("*query term weights*does not broadcast*[1, 8]*");
            FluentActions.Invoking(() => loss.CollectStatistics(output)).Should().Throw<ArgumentException>();
        }

        foreach (var shape in new long[][] { [8], [1, 8], [1], [] })
        {
            new FlopsRegularization(docTermWeights: ones(shape)).ComputeLoss(output).dim().Should().Be(0);
        }

        var weights = ones(8);
        var later = new FlopsRegularization(docTermWeights: weights);
        weights.Dispose();
        FluentActions.Invoking(() => later.ComputeLoss(output))
            .Should().Throw<ArgumentException>().WithMessage("*document term weights*disposed*");
    }

    [Fact]
    public void Estimator_counts_like_count_nonzero_over_the_concatenated_batches()
    {
        using var scope = NewDisposeScope();
        var batches = new[]
        {
            SplitBatchTests.SpladeLike([7, 1, 30], ScalarType.Float32, seed: 43),
            SplitBatchTests.SpladeLike([3, 1, 30], ScalarType.Float32, seed: 44),
            SplitBatchTests.SpladeLike([5, 1, 30], ScalarType.Float32, seed: 45).requires_grad_(),
        };
        using var estimator = new DocumentFrequencyEstimator();
        foreach (var batch in batches)
        {
            estimator.Add(batch);
        }

        var expected = cat(batches.Select(b => b.detach().reshape(-1, 30)).ToList()).count_nonzero([0]).to(ScalarType.Float64).div(15);
        var fractions = estimator.Fractions();
        estimator.DocumentCount.Should().Be(15);
        fractions.shape.Should().Equal(30);
        fractions.dtype.Should().Be(ScalarType.Float32);
        fractions.requires_grad.Should().BeFalse();
        GoldenParityTests.Values(fractions).Should().Equal(GoldenParityTests.Values(expected.to(ScalarType.Float32)));
    }

    [Fact]
    public void Estimator_counts_vectors_of_multi_vector_embeddings_and_resets()
    {
        using var scope = NewDisposeScope();
        using var estimator = new DocumentFrequencyEstimator();
        var x = tensor(new double[] { 1, 0, 0, 2, 0, 3, 0, 0 }, [2, 2, 2]);
        estimator.Add(x);
        estimator.DocumentCount.Should().Be(4);
        GoldenParityTests.Values(estimator.Fractions()).Should().Equal(0.25, 0.5); // vectors (1, 0), (0, 2), (0, 3), (0, 0)

        estimator.Reset();
        estimator.DocumentCount.Should().Be(0);
        FluentActions.Invoking(() => estimator.Fractions()).Should().Throw<InvalidOperationException>();
        estimator.Add(ones(2, 5, dtype: ScalarType.Float16));
        estimator.Fractions().dtype.Should().Be(ScalarType.Float16, "the next first batch sets the dtype and vocabulary again");
    }

    [Fact]
    public void Estimator_refuses_bad_input_and_use_after_dispose()
    {
        using var scope = NewDisposeScope();
        var estimator = new DocumentFrequencyEstimator();
        FluentActions.Invoking(() => estimator.Fractions()).Should().Throw<InvalidOperationException>().WithMessage("*Add*");
        estimator.Add(ones(2, 5));
        FluentActions.Invoking(() => estimator.Add(ones(2, 6)))
            .Should().Throw<ArgumentException>().WithParameterName("embeddings").WithMessage("*5 terms*6*");
        FluentActions.Invoking(() => estimator.Add(ones(5))).Should().Throw<ArgumentException>().WithMessage("*rank 2*");
        FluentActions.Invoking(() => estimator.Add(ones(2, 5, dtype: ScalarType.Int32))).Should().Throw<ArgumentException>().WithMessage("*floating-point*");
        FluentActions.Invoking(() => estimator.Add(null!)).Should().Throw<ArgumentNullException>();
        estimator.DocumentCount.Should().Be(2, "refused batches are not counted");

        estimator.Dispose();
        FluentActions.Invoking(() => estimator.Add(ones(2, 5))).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => estimator.Fractions()).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => estimator.Reset()).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Weighted_loss_estimator_and_activation_leak_no_tensor()
    {
        using var doc = SplitBatchTests.SpladeLike([16, 1, 64], ScalarType.Float32, seed: 46).requires_grad_();
        using var weights = ones(64);
        var loss = new FlopsRegularization(docTermWeights: weights);
        DisposeScopeManager.Statistics.Reset();
        using (var estimator = new DocumentFrequencyEstimator())
        {
            for (var i = 0; i < 100; i++)
            {
                using var step = NewDisposeScope();
                estimator.Add(doc);
                var next = TermWeighting.DocumentFrequencyWeights(estimator.Fractions(), 0.1, 2);
                loss.ComputeLoss(TestLosses.Output(doc, doc)).backward();
                weights.copy_(next);
            }
        }

        doc.grad?.Dispose();
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, DisposeScopeManager.Statistics.ToString());
    }
}
