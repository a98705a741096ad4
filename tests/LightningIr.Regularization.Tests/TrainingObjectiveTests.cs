namespace LightningIr.Regularization.Tests;

public sealed class TrainingObjectiveTests
{
    [Fact]
    public void Sums_weighted_parts_and_reports_each_by_name()
    {
        using var scope = NewDisposeScope();
        var query = tensor(new double[] { 3, 4 }, [1, 2]).requires_grad_();
        var doc = tensor(new double[] { 1, 0, 0, 2 }, [2, 2]);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        var ranking = tensor(0.5, ScalarType.Float64);
        var objective = new TrainingObjective()
            .Add(new L1Regularization(1, 2))
            .Add(new L2Regularization(1, 0), weight: 0.5)
            .Add(new L1Regularization(0, 1));

        var result = objective.Compute(ranking, output);
        result.Loss.backward();

        // L1 = 7 + 2 · 1.5 = 10; L2 = 5; second L1 = 1.5.
        var c = result.Values;
        c["RankingLoss"].Should().Be(0.5);
        c["L1Regularization"].Should().BeApproximately(10, 1e-12);
        c["L1Regularization/query"].Should().BeApproximately(7, 1e-12);
        c["L1Regularization/doc"].Should().BeApproximately(3, 1e-12);
        c["L2Regularization"].Should().BeApproximately(5, 1e-12);
        c["L1Regularization#2"].Should().BeApproximately(1.5, 1e-12);
        c["loss"].Should().BeApproximately(0.5 + 10 + 2.5 + 1.5, 1e-12);
        result.Loss.item<double>().Should().Be(c["loss"]);
        // d/dq of 0.5·L2 + L1 (λq = 1) at q = [3, 4]: 0.5·q/‖q‖ + sign(q) = [1.3, 1.4].
        GoldenParityTests.Values(query.grad!).Should().BeEquivalentTo(new[] { 1.3, 1.4 }, o => o.Using<double>(x => x.Subject.Should().BeApproximately(x.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Refuses_bad_arguments()
    {
        using var scope = NewDisposeScope();
        var output = new BiEncoderOutput(QueryEmbeddings: new(ones(1, 2)), DocEmbeddings: new(ones(1, 2)));
        var objective = new TrainingObjective();
        FluentActions.Invoking(() => objective.Compute(ones(3), output))
            .Should().Throw<ArgumentException>().WithParameterName("rankingLoss").WithMessage("*0-dimensional*[3]*");
        FluentActions.Invoking(() => objective.Compute(null!, output)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => objective.Add((RegularizationLossFunction)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => objective.Add((SparsityBudget)null!)).Should().Throw<ArgumentNullException>().WithParameterName("budget");
        FluentActions.Invoking(() => objective.Add(new L1Regularization(), -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new TrainingObjective(" ")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new TrainingObjective(TrainingObjective.ObjectiveName))
            .Should().Throw<ArgumentException>().WithParameterName("rankingLossName").WithMessage("*\"loss\" is the key of the whole objective*");
    }

    [Fact]
    public void Regularizers_of_one_type_and_one_named_loss_get_their_own_keys()
    {
        using var scope = NewDisposeScope();
        var output = new BiEncoderOutput(QueryEmbeddings: new(ones(2, 3)), DocEmbeddings: new(ones(2, 3)));
        var result = new TrainingObjective()
            .Add(new L1Regularization(1, 0)).Add(new L1Regularization(2, 0)).Add(new L1Regularization(3, 0)).Add(new NamedLoss())
            .Compute(zeros(1).squeeze(), output);

        result.Values["L1Regularization"].Should().Be(3);
        result.Values["L1Regularization#2"].Should().Be(6);
        result.Values["L1Regularization#3"].Should().Be(9);
        result.Values["loss#2"].Should().Be(3, "a regularizer that calls itself loss does not take the objective's key");
        result.Values["loss"].Should().Be(3 + 6 + 9 + 3);
    }

    private sealed class NamedLoss : L1Regularization
    {
        public NamedLoss() : base(1, 0)
        {
        }

        public override string Name => "loss";
    }

    [Fact]
    public void Leaves_only_the_objective_alive()
    {
        using var query = randn(4, 1, 8, requires_grad: true);
        using var ranking = tensor(1.0f);
        var objective = new TrainingObjective().Add(new FlopsRegularization()).Add(new L1Regularization());
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(query));
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 50; i++)
        {
            using var result = objective.Compute(ranking, output);
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }
}
