namespace LightningIr.Regularization.Tests;

/// <summary>
/// The losses against autograd running Lightning IR's op sequence, written literally in TorchSharp, on the
/// same inputs: bit for bit the same value and gradient, for every dtype (FLOPS is computed as a sum divided
/// by n rather than a mean, which must not change a single number), for short vectors and for vectors long enough
/// for ATen's vectorised kernels.
/// </summary>
public sealed class LiteralSequenceTests
{
    private static readonly long[] LastDim = [-1];
    private static readonly long[] BatchDim = [0];

    private static Tensor Literal(string name, Tensor x) => LiteralLightningIr.Penalty(name, x);

    public static TheoryData<string, ScalarType, string, int> AllWithFloatTypesOnEveryDeviceAtTwoLengths()
    {
        var data = new TheoryData<string, ScalarType, string, int>();
        foreach (var row in TestLosses.AllWithFloatTypesOnEveryDevice())
        {
            var (name, dtype, device) = ((string)row[0], (ScalarType)row[1], (string)row[2]);
            data.Add(name, dtype, device, 40);
            data.Add(name, dtype, device, 30_000); // long vectors: ATen's vectorised kernels
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllWithFloatTypesOnEveryDeviceAtTwoLengths))]
    public void Value_and_gradient_equal_autograd_of_the_literal_sequence(string name, ScalarType dtype, string device, int length)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var values = randn([6, 3, length], generator: generator).mul(2);
        values[1] = zeros(3, length); // all-zero vectors, as SPLADE produces
        var source = values.relu().sub(0.3).relu().to(dtype, torch.device(device));
        var mine = source.clone().requires_grad_();
        var theirs = source.clone().requires_grad_();

        // Views, as a model's outputs are: the gradient flows on through autograd instead of into a leaf.
        var (myOutput, theirOutput) = (mine.view(mine.shape), theirs.view(theirs.shape));
        var loss = TestLosses.Create(name, 0.25, 0.75).ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(myOutput), DocEmbeddings: new(myOutput)));
        var literal = Literal(name, theirOutput).mul(0.25).add(Literal(name, theirOutput).mul(0.75));
        loss.backward();
        literal.backward();

        loss.dtype.Should().Be(dtype);
        loss.device.ToString().Should().Be(device);
        loss.eq(literal).item<bool>().Should().BeTrue($"the value is {loss.to(ScalarType.Float64).item<double>()}, the literal sequence's {literal.to(ScalarType.Float64).item<double>()}");
        var difference = mine.grad!.to(ScalarType.Float64).sub(theirs.grad!.to(ScalarType.Float64)).abs().max().item<double>();
        difference.Should().Be(0, $"every gradient entry for {name} in {dtype} is the same number");
        mine.grad!.eq(0).eq(theirs.grad!.eq(0)).all().item<bool>().Should().BeTrue("zero gradients in the same places");
    }

    [Fact]
    public void Backward_inside_a_scope_leaves_nothing_alive()
    {
        using var x = randn(8, 1, 32, requires_grad: true);
        var losses = new RegularizationLossFunction[] { new L1Regularization(), new L2Regularization(), new FlopsRegularization(docThreshold: 3) };
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 300; i++)
        {
            using var scope = NewDisposeScope();
            losses[i % 3].ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(x), DocEmbeddings: new(x))).backward();
            x.grad = null;
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }

    [Fact]
    public void Backward_without_any_scope_leaves_nothing_alive()
    {
        using var x = randn(8, 1, 32, requires_grad: true);
        var output = new BiEncoderOutput(QueryEmbeddings: new(x), DocEmbeddings: new(x));
        var losses = new RegularizationLossFunction[] { new L1Regularization(), new L2Regularization(), new FlopsRegularization() };
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 300; i++)
        {
            using var loss = losses[i % 3].ComputeLoss(output);
            loss.backward();
            x.grad = null;
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }

    [Fact]
    public void Graph_released_without_backward_leaves_nothing_alive()
    {
        using var x = randn(8, 1, 32, requires_grad: true);
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 300; i++)
        {
            using var loss = new FlopsRegularization().ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(x), DocEmbeddings: new(x)));
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }
}
