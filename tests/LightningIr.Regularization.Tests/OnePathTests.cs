namespace LightningIr.Regularization.Tests;

/// <summary>
/// One custom regularizer, changed only through the two extension points (<c>ProcessEmbeddings</c> and <c>GetPenalty</c>),
/// driven through every path of the library: each gives the same numbers.
/// </summary>
public sealed class OnePathTests
{
    private const double QueryLambda = 0.3;
    private const double DocLambda = 0.7;

    /// <summary>Regularizes only the first vector of each sequence (a [CLS]-style pooling): L1 on queries, FLOPS on documents.</summary>
    private sealed class FirstVectorRegularization : RegularizationLossFunction
    {
        public FirstVectorRegularization()
            : base(QueryLambda, DocLambda)
        {
        }

        public override (Tensor Query, Tensor Doc) ProcessEmbeddings(BiEncoderOutput output)
        {
            var (query, doc) = base.ProcessEmbeddings(output);
            return (query.select(1, 0), doc.select(1, 0));
        }

        protected override EmbeddingPenalty GetPenalty(RegularizationSide side) =>
            side == RegularizationSide.Query ? new VectorNormPenalty(1) : new FlopsPenalty();
    }

    [Fact]
    public void Every_path_gives_the_value_of_the_processed_embeddings_and_their_penalties()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var query = randn(new long[] { 4, 3, 16 }, generator: generator).relu().to(ScalarType.Float64);
        var doc = randn(new long[] { 6, 3, 16 }, generator: generator).relu().to(ScalarType.Float64);
        var output = TestLosses.Output(query, doc);
        var loss = new FirstVectorRegularization();
        var firstQuery = query.select(1, 0);
        var firstDoc = doc.select(1, 0);
        var expected = (QueryLambda * RegularizationFunctional.L1(firstQuery).item<double>()) + (DocLambda * RegularizationFunctional.Flops(firstDoc).item<double>());
        var unprocessed = (QueryLambda * RegularizationFunctional.L1(query).item<double>()) + (DocLambda * RegularizationFunctional.Flops(doc).item<double>());
        unprocessed.Should().NotBeApproximately(expected, 1e-6, "the case tells the processed embeddings from the raw ones");

        var values = new Dictionary<string, double>
        {
            ["ComputeLoss(output)"] = loss.ComputeLoss(output).item<double>(),
            ["ComputeLoss(query, doc)"] = loss.ComputeLoss(query, doc).item<double>(),
            ["ComputeLossComponents"] = loss.ComputeLossComponents(output).Total.item<double>(),
            ["module"] = new RegularizationModule(loss).forward(query, doc).item<double>(),
            ["TrainingObjective"] = new TrainingObjective().Add(loss).Compute(zeros(1, ScalarType.Float64).squeeze(), output).Loss.item<double>(),
        };

        var parts = new[] { TestLosses.Output(query[..1], doc[..4]), TestLosses.Output(query[1..], doc[4..]) };
        using (var total = RegularizationStatistics.Sum(parts.Select(loss.CollectStatistics)))
        {
            values["split batch"] = parts.Sum(p => loss.ComputeLoss(p, total).item<double>());
            values["split batch components"] = parts.Sum(p => loss.ComputeLossComponents(p, total).Total.item<double>());
        }

        var objective = new TrainingObjective().Add(loss);
        using (var total = TrainingObjectiveStatistics.Sum(parts.Select(objective.CollectStatistics)))
        {
            values["TrainingObjective, split batch"] = parts.Sum(p => objective.Compute(zeros(1, ScalarType.Float64).squeeze(), p, total).Loss.item<double>());
        }

        foreach (var (path, value) in values)
        {
            value.Should().BeApproximately(expected, 1e-12, path);
        }

        var components = loss.ComputeLossComponents(output);
        components.Query.item<double>().Should().BeApproximately(QueryLambda * RegularizationFunctional.L1(firstQuery).item<double>(), 1e-12);

        var budget = new SparsityBudget(loss, queryL0: 2, docL0: 3);
        budget.Update(output);
        budget.MeasuredQueryL0.Should().Be(SparsityMetrics.L0(firstQuery), "a budget measures what the loss regularizes");
        budget.MeasuredDocL0.Should().Be(SparsityMetrics.L0(firstDoc));
        SparsityMetrics.L0(doc).Should().NotBe(SparsityMetrics.L0(firstDoc));
    }

    [Fact]
    public void ComputeLoss_of_an_output_is_sealed_so_a_subclass_changes_the_loss_only_where_every_path_looks()
    {
        var method = typeof(RegularizationLossFunction).GetMethod(nameof(RegularizationLossFunction.ComputeLoss), [typeof(BiEncoderOutput)])!;
        method.IsFinal.Should().BeTrue();
        method.IsVirtual.Should().BeTrue("it still overrides EmbeddingLossFunction's abstract method");
    }
}
