namespace LightningIr.Regularization.Tests;

/// <summary>The TorchSharp-shaped entry points and the records' equality.</summary>
public sealed class ApiShapeTests
{
    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Functional_forms_compute_each_sides_unweighted_penalty(string name)
    {
        using var scope = NewDisposeScope();
        var query = SplitBatchTests.SpladeLike([4, 2, 16], ScalarType.Float64, seed: 50).requires_grad_();
        var doc = SplitBatchTests.SpladeLike([6, 2, 16], ScalarType.Float64, seed: 51);
        var mask = rand(4, 2, generator: new Generator(52)).gt(0.4);
        var loss = TestLosses.Create(name, 1, 0);
        loss.UseScoringMask = true;
        Func<Tensor, Tensor?, Tensor> functional = name switch
        {
            "L1" => (x, m) => RegularizationFunctional.L1(x, m),
            "L2" => (x, m) => RegularizationFunctional.L2(x, m),
            _ => (x, m) => RegularizationFunctional.Flops(x, m),
        };

        var viaFunction = functional(query, mask);
        var viaLoss = loss.ComputeLoss(TestLosses.Output(query, doc, mask));
        viaFunction.equal(viaLoss).item<bool>().Should().BeTrue();
        viaFunction.requires_grad.Should().BeTrue();
        functional(query, null).equal(TestLosses.Create(name, 1, 0).ComputeLoss(query, doc)).item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Functional_FLOPS_takes_a_threshold_and_term_weights_and_refuses_bad_ones()
    {
        using var scope = NewDisposeScope();
        var x = SplitBatchTests.SpladeLike([8, 16], ScalarType.Float32, seed: 53);
        var weights = rand(16, generator: new Generator(54));
        var loss = new FlopsRegularization(1, 0, queryThreshold: 3, queryTermWeights: weights);
        RegularizationFunctional.Flops(x, threshold: 3, termWeights: weights).equal(loss.ComputeLoss(x, x)).item<bool>().Should().BeTrue();

        FluentActions.Invoking(() => RegularizationFunctional.Flops(x, threshold: -1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        FluentActions.Invoking(() => RegularizationFunctional.Flops(x, termWeights: ones(15)))
            .Should().Throw<ArgumentException>().WithParameterName("termWeights");
        FluentActions.Invoking(() => RegularizationFunctional.L1(ones(3)))
            .Should().Throw<ArgumentException>().WithParameterName("embeddings");
        FluentActions.Invoking(() => RegularizationFunctional.L2(x, ones(8)))
            .Should().Throw<ArgumentException>().WithParameterName("scoringMask");
        FluentActions.Invoking(() => new L2Regularization().ComputeLoss(null!, x)).Should().Throw<ArgumentNullException>().WithParameterName("query");
        FluentActions.Invoking(() => new L2Regularization().ComputeLoss(x, (Tensor)null!)).Should().Throw<ArgumentNullException>().WithParameterName("doc");
    }

    [Fact]
    public void The_module_form_is_the_regularizer()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(0.5, 0.25);
        using var module = new RegularizationModule(flops);
        var query = rand(4, 1, 8);
        var doc = rand(6, 1, 8);

        module.call(query, doc).equal(flops.ComputeLoss(query, doc)).item<bool>().Should().BeTrue();
        module.Regularizer.Should().BeSameAs(flops);
        module.GetName().Should().Be("FLOPSRegularization");
        flops.DocWeight = 0;
        module.call(query, doc).equal(new FlopsRegularization(0.5, 0).ComputeLoss(query, doc)).item<bool>().Should().BeTrue("it reads the weights at each call");
        FluentActions.Invoking(() => new RegularizationModule(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Records_compare_tensors_by_reference_without_reading_them()
    {
        var a = ones(2, 3);
        var sameContent = ones(2, 3);
        var mask = ones(2, dtype: ScalarType.Bool);
        var ids = new[] { "q1", "q2" };

        var embedding = new BiEncoderEmbedding(a, mask, ids);
        embedding.Should().Be(new BiEncoderEmbedding(a, mask, ids));
        embedding.GetHashCode().Should().Be(new BiEncoderEmbedding(a, mask, ids).GetHashCode());
        embedding.Should().NotBe(new BiEncoderEmbedding(sameContent, mask, ids), "equal content in another tensor is another embedding");
        embedding.Should().NotBe(new BiEncoderEmbedding(a, null, ids));

        var output = new BiEncoderOutput(Scores: a, QueryEmbeddings: embedding, DocEmbeddings: new(a));
        output.Should().Be(new BiEncoderOutput(Scores: a, QueryEmbeddings: new(a, mask, ids), DocEmbeddings: new(a)));
        output.GetHashCode().Should().Be(new BiEncoderOutput(Scores: a, QueryEmbeddings: new(a, mask, ids), DocEmbeddings: new(a)).GetHashCode());
        output.Should().NotBe(new BiEncoderOutput(Scores: sameContent, QueryEmbeddings: embedding, DocEmbeddings: new(a)));
        output.Should().NotBe(output with { Similarity = a });
        new LightningIrOutput(a).Should().NotBe(new BiEncoderOutput(Scores: a), "another record type");
        new LightningIrOutput(a).Should().Be(new LightningIrOutput(a));

        var components = new RegularizationLossComponents(a, a, a);
        components.Should().Be(new RegularizationLossComponents(a, a, a));
        components.GetHashCode().Should().Be(new RegularizationLossComponents(a, a, a).GetHashCode());
        components.Should().NotBe(new RegularizationLossComponents(a, a, sameContent));
        var values = new Dictionary<string, double>();
        new TrainingObjectiveResult(a, values).Should().Be(new TrainingObjectiveResult(a, values));
        new TrainingObjectiveResult(a, values).Should().NotBe(new TrainingObjectiveResult(sameContent, values));

        // Disposed tensors can still be compared and hashed: nothing reads them.
        a.Dispose();
        sameContent.Dispose();
        embedding.Should().Be(new BiEncoderEmbedding(a, mask, ids));
        _ = output.GetHashCode();
        mask.Dispose();
    }
}
