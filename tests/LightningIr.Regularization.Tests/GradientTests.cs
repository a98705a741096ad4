namespace LightningIr.Regularization.Tests;

/// <summary>Autograd gradients against central finite differences in float64.</summary>
public sealed class GradientTests
{
    public static TheoryData<string, long[]> Shapes => new()
    {
        { "L2", [3, 5] }, { "L1", [3, 5] }, { "FLOPS", [3, 5] },
        { "L2", [2, 3, 4] }, { "L1", [2, 3, 4] }, { "FLOPS", [2, 3, 4] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gradient_matches_central_differences(string name, long[] shape)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        // Entries bounded away from 0 so that |x| is differentiable at every sample point.
        var magnitudes = rand(shape, dtype: ScalarType.Float64, generator: generator).add(0.2);
        var signs = randint(0, 2, shape, generator: generator).mul(2).sub(1).to(ScalarType.Float64);
        var query = magnitudes.mul(signs).requires_grad_();
        var doc = rand(shape, dtype: ScalarType.Float64, generator: generator).add(0.2).requires_grad_();
        var loss = TestLosses.Create(name, 0.7, 1.3);
        double Evaluate()
        {
            using var inner = NewDisposeScope();
            using var noGrad = no_grad();
            return loss.ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc))).item<double>();
        }

        loss.ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc))).backward();
        var analytic = GoldenParityTests.Values(query.grad!).Concat(GoldenParityTests.Values(doc.grad!)).ToArray();

        const double h = 1e-6;
        var numeric = new List<double>();
        foreach (var leaf in new[] { query, doc })
        {
            var flat = leaf.detach().view(-1);
            for (var i = 0; i < flat.shape[0]; i++)
            {
                var original = flat[i].item<double>();
                flat[i] = original + h;
                var plus = Evaluate();
                flat[i] = original - h;
                var minus = Evaluate();
                flat[i] = original;
                numeric.Add((plus - minus) / (2 * h));
            }
        }

        for (var i = 0; i < analytic.Length; i++)
        {
            analytic[i].Should().BeApproximately(numeric[i], 1e-7, $"d loss / d x[{i}]");
        }
    }

    [Theory]
    [InlineData("L2")]
    [InlineData("L1")]
    [InlineData("FLOPS")]
    public void All_zero_vectors_get_a_zero_subgradient_not_NaN(string name)
    {
        using var scope = NewDisposeScope();
        var query = zeros(3, 1, 8, dtype: ScalarType.Float32, requires_grad: true);
        var doc = cat([zeros(1, 1, 8), ones(1, 1, 8)], 0).requires_grad_();

        TestLosses.Create(name, 1, 1).ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc))).backward();

        query.grad!.eq(0).all().item<bool>().Should().BeTrue();
        doc.grad![0].eq(0).all().item<bool>().Should().BeTrue();
        doc.grad![1].ne(0).all().item<bool>().Should().BeTrue("the non-zero vector is penalised");
        doc.grad!.isnan().any().item<bool>().Should().BeFalse();
    }
}
