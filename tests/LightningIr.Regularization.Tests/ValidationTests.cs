namespace LightningIr.Regularization.Tests;

/// <summary>Bad input gets a .NET exception that names the problem, never a silent NaN.</summary>
public sealed class ValidationTests
{
    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Null_output_throws_ArgumentNullException(string name)
    {
        var act = () => TestLosses.Create(name).ComputeLoss(null!);
        act.Should().Throw<ArgumentNullException>().WithParameterName("output");
        var components = () => TestLosses.Create(name).ComputeLossComponents(null!);
        components.Should().Throw<ArgumentNullException>().WithParameterName("output");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Missing_query_embeddings_are_named(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(new BiEncoderOutput(DocEmbeddings: new(ones(2, 3))));
        act.Should().Throw<ArgumentException>().WithMessage("*query embeddings*QueryEmbeddings is null*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Missing_doc_embeddings_are_named(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(ones(2, 3))));
        act.Should().Throw<ArgumentException>().WithMessage("*document embeddings*DocEmbeddings is null*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Integer_embeddings_are_refused(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(TestLosses.Output(ones(2, 3, dtype: ScalarType.Int64), ones(2, 3)));
        act.Should().Throw<ArgumentException>().WithMessage("*query embeddings must be a floating-point tensor*Int64*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Rank_one_embeddings_are_refused(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(TestLosses.Output(ones(2, 3), ones(3)));
        act.Should().Throw<ArgumentException>().WithMessage("*document embeddings must have shape [batch, ..., dim]*[3]*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Empty_batch_is_refused_instead_of_NaN(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(TestLosses.Output(ones(0, 4), ones(2, 4)));
        act.Should().Throw<ArgumentException>().WithMessage("*query embeddings have an empty batch*[0, 4]*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Empty_sequence_is_refused(string name)
    {
        using var scope = NewDisposeScope();
        var act = () => TestLosses.Create(name).ComputeLoss(TestLosses.Output(ones(2, 1, 4), ones(2, 0, 4)));
        act.Should().Throw<ArgumentException>().WithMessage("*document embeddings have an empty dimension 1*");
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Disposed_embeddings_are_refused(string name)
    {
        var query = ones(2, 4);
        query.Dispose();
        using var doc = ones(2, 4);
        var act = () => TestLosses.Create(name).ComputeLoss(TestLosses.Output(query, doc));
        act.Should().Throw<ArgumentException>().WithMessage("*query embeddings tensor has been disposed*");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-1e-4)]
    public void Bad_weights_are_refused_by_every_constructor(double weight)
    {
        var constructors = new Func<RegularizationLossFunction>[]
        {
            () => new L2Regularization(weight), () => new L1Regularization(weight), () => new FlopsRegularization(weight),
        };
        foreach (var create in constructors)
        {
            create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryWeight").WithMessage("*finite number ≥ 0*");
        }

        var doc = () => new L1Regularization(docWeight: weight);
        doc.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("docWeight");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.5)]
    public void Bad_weights_are_refused_by_the_setters_and_the_old_value_stays(double weight)
    {
        var loss = new FlopsRegularization(0.25, 0.5);

        var setQuery = () => loss.QueryWeight = weight;
        var setDoc = () => loss.DocWeight = weight;

        setQuery.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("QueryWeight");
        setDoc.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("DocWeight");
        loss.QueryWeight.Should().Be(0.25);
        loss.DocWeight.Should().Be(0.5);
    }

    [Fact]
    public void Defaults_are_Lightning_IRs()
    {
        foreach (var loss in new RegularizationLossFunction[] { new L2Regularization(), new L1Regularization(), new FlopsRegularization() })
        {
            loss.QueryWeight.Should().Be(1e-4);
            loss.DocWeight.Should().Be(1e-4);
            loss.UseScoringMask.Should().BeFalse();
        }
    }

    [Fact]
    public void Names_are_Lightning_IRs_class_names_and_subclasses_log_under_their_own()
    {
        new FlopsRegularization().Name.Should().Be("FLOPSRegularization");
        new L1Regularization().Name.Should().Be("L1Regularization");
        new L2Regularization().Name.Should().Be("L2Regularization");
        new DerivedFlops().Name.Should().Be(nameof(DerivedFlops));
    }

    [Fact]
    public void Penalties_refuse_bad_settings_when_created_directly()
    {
        foreach (var order in new[] { 0.5, 0, double.NaN, double.NegativeInfinity })
        {
            FluentActions.Invoking(() => new VectorNormPenalty(order)).Should().Throw<ArgumentOutOfRangeException>()
                .WithParameterName("order").WithMessage("A vector norm's order must be at least 1 (or positive infinity)*");
        }

        new VectorNormPenalty(1).Order.Should().Be(1, "order 1 is L1's norm");
        new VectorNormPenalty(double.PositiveInfinity).Order.Should().Be(double.PositiveInfinity);
        using var integers = ones(4, dtype: ScalarType.Int64);
        FluentActions.Invoking(() => new FlopsPenalty(termWeights: integers)).Should().Throw<ArgumentException>()
            .WithParameterName("termWeights").WithMessage("Term weights must be a floating-point tensor, but have dtype Int64*");
        var disposed = ones(4);
        disposed.Dispose();
        FluentActions.Invoking(() => new FlopsPenalty(termWeights: disposed)).Should().Throw<ArgumentException>()
            .WithParameterName("termWeights").WithMessage("The term weights tensor has been disposed*");
        FluentActions.Invoking(() => new FlopsPenalty(threshold: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
    }

    private sealed class DerivedFlops : FlopsRegularization;
}
