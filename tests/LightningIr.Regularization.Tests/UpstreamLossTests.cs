namespace LightningIr.Regularization.Tests;

/// <summary>Lightning IR's own test of these losses (tests/test_loss.py::test_regularization_loss_func), ported.</summary>
public sealed class UpstreamLossTests
{
    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Regularization_loss_is_non_negative_and_requires_grad(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        var embeddings = randn(4, 8, 4, requires_grad: true);
        var mask = empty(4, 8, dtype: ScalarType.Bool);
        var output = new BiEncoderOutput(
            QueryEmbeddings: new BiEncoderEmbedding(embeddings, mask),
            DocEmbeddings: new BiEncoderEmbedding(embeddings, mask));

        var loss = TestLosses.Create(name).ComputeLoss(output);

        loss.dim().Should().Be(0);
        loss.requires_grad.Should().BeTrue();
        loss.item<float>().Should().BeGreaterThanOrEqualTo(0);
    }
}
