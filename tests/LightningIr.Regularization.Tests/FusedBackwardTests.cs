namespace LightningIr.Regularization.Tests;

/// <summary>
/// The fused backward passes, taken for unmasked penalties of at least 524,288 elements on the CPU when the caller has a
/// dispose scope: the same bits as ATen's own backward (taken without a scope), the gradient's wrapper in the scope
/// current during backward, wrappers left without a scope released at the next call, and exact second derivatives.
/// </summary>
public sealed class FusedBackwardTests
{
    /// <summary>At the fused path's threshold: 8 × 2 × 32,768 = 524,288 elements per side.</summary>
    private static readonly long[] Large = [8, 2, 32768];

    public static TheoryData<string, ScalarType> LossesWithFloatTypes()
    {
        var data = new TheoryData<string, ScalarType>();
        foreach (var name in new[] { "L1", "L2", "FLOPS", "DF-FLOPS" })
        {
            foreach (var dtype in TestLosses.FloatTypes)
            {
                data.Add(name, dtype);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LossesWithFloatTypes))]
    public void Fused_and_unfused_backward_give_the_same_bits(string name, ScalarType dtype)
    {
        using var source = Source(dtype, seed: 3);
        using var weights = rand(Large[^1], generator: new Generator(4)).to(dtype);
        var loss = Create(name, weights);

        ShouldBeTheSameBits(
            ValueAndGradient(source, scoped: true, x => loss.ComputeLoss(ModelOutput(x), ModelOutput(x))),
            ValueAndGradient(source, scoped: false, x => loss.ComputeLoss(ModelOutput(x), ModelOutput(x))),
            $"{name} in {dtype}");
    }

    [Theory]
    [MemberData(nameof(LossesWithFloatTypes))]
    public void Fused_and_unfused_split_batch_shares_give_the_same_bits(string name, ScalarType dtype)
    {
        using var source = Source(dtype, seed: 5);
        using var weights = rand(2 * Large[^1], generator: new Generator(6)).to(dtype);
        var loss = Create(name, weights);

        Tensor Shares(Tensor x)
        {
            var parts = x.chunk(2);
            var outputs = parts.Select(p => new BiEncoderOutput(QueryEmbeddings: new(p), DocEmbeddings: new(p))).ToList();
            using var total = RegularizationStatistics.Sum(outputs.Select(loss.CollectStatistics));
            return outputs.Select(o => loss.ComputeLoss(o, total)).Aggregate((a, b) => a.add(b));
        }

        // The parts are 4 × 2 × 32,768 = 262,144 elements; twice as long vectors put each part at the threshold.
        using var longer = cat([source, source.flip(-1)], -1);
        ShouldBeTheSameBits(
            ValueAndGradient(longer, scoped: true, Shares), ValueAndGradient(longer, scoped: false, Shares), $"{name}'s shares in {dtype}");
    }

    public static TheoryData<string, string, int> WrappersLeftByBackward() => new()
    {
        // Two fused sides leave one wrapper: the second side's backward releases the first's.
        { "L1", "model output", 1 },
        { "L2", "model output", 1 },
        { "FLOPS", "model output", 1 },
        { "L1", "leaf with a gradient", 1 },
        { "FLOPS", "leaf with a gradient", 1 },
        // A leaf without a gradient yet: ATen's backward for the sgn(x) · g penalties, the fused one for L2.
        { "L1", "leaf without a gradient", 0 },
        { "FLOPS", "leaf without a gradient", 0 },
        { "L2", "leaf without a gradient", 1 },
        { "FLOPS", "small model output", 0 },
    };

    [Theory]
    [MemberData(nameof(WrappersLeftByBackward))]
    public void The_gradients_wrapper_lives_in_the_scope_current_during_backward_until_the_next_fused_backward(
        string name, string input, int wrappers)
    {
        using var leaf = input == "small model output" ? SpladeLike.Embeddings(8, 2, 64) : SpladeLike.Embeddings(Large);
        if (input == "leaf with a gradient")
        {
            leaf.grad = zeros_like(leaf);
        }

        var loss = TestLosses.Create(name);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        using (var scope = NewDisposeScope())
        {
            var embeddings = input.EndsWith("model output", StringComparison.Ordinal) ? ModelOutput(leaf) : leaf;
            var value = loss.ComputeLoss(embeddings, embeddings);
            var before = scope.DisposablesCount;
            value.backward();

            // ATen's own backward creates no .NET wrapper; a fused side leaves its gradient's, and nothing else.
            scope.DisposablesCount.Should().Be(before + wrappers);
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(live, "the scope released the wrappers");
        leaf.grad!.abs().sum().item<float>().Should().BePositive("the gradient itself outlives its wrapper");
    }

    [Theory]
    [InlineData("L1")]
    [InlineData("L2")]
    [InlineData("FLOPS")]
    [InlineData("DF-FLOPS")]
    public void A_split_batch_share_takes_the_fused_backward_too(string name)
    {
        using var leaf = SpladeLike.Embeddings(Large);
        using var weights = rand(Large[^1], generator: new Generator(12));
        var loss = Create(name, weights);
        using var scope = NewDisposeScope();
        var part = new BiEncoderOutput(QueryEmbeddings: new(ModelOutput(leaf)), DocEmbeddings: new(ModelOutput(leaf)));
        var share = loss.ComputeLoss(part, loss.CollectStatistics(part));
        var before = scope.DisposablesCount;
        share.backward();

        scope.DisposablesCount.Should().Be(before + 1, "the fused backward leaves its gradient's wrapper");
    }

    public static TheoryData<string, bool, bool> MasksAndThresholds() => new()
    {
        { "FLOPS", true, false },
        { "FLOPS", false, true },
        { "L1", true, false },
        { "L2", true, false },
    };

    [Theory]
    [MemberData(nameof(MasksAndThresholds))]
    public void Scoring_masks_and_activation_thresholds_keep_atens_backward(string name, bool mask, bool threshold)
    {
        using var source = Source(ScalarType.Float32, seed: 13);
        using var scoringMask = arange(Large[0] * Large[1]).reshape(Large[0], Large[1]).remainder(3).ne(0);
        var loss = name == "FLOPS" && threshold ? new FlopsRegularization(0.25, 0.75, queryThreshold: 900, docThreshold: 900) : TestLosses.Create(name, 0.25, 0.75);
        loss.UseScoringMask = mask;
        Tensor Compute(Tensor x)
        {
            var output = ModelOutput(x);
            return loss.ComputeLoss(new BiEncoderOutput(
                QueryEmbeddings: new(output, mask ? scoringMask : null), DocEmbeddings: new(output, mask ? scoringMask : null)));
        }

        var scoped = Run(source, scoped: true, x =>
        {
            var value = Compute(x);
            var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            value.backward();
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "ATen's backward creates no wrapper");
            return [value, x.grad!];
        });
        ShouldBeTheSameBits(scoped, ValueAndGradient(source, scoped: false, Compute), $"{name} with a mask or threshold");
    }

    [Fact]
    public void Calls_without_a_scope_take_atens_backward_and_leave_nothing_alive()
    {
        using var x = SpladeLike.Embeddings(Large);
        var losses = new RegularizationLossFunction[] { new L1Regularization(), new L2Regularization(), new FlopsRegularization() };
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 30; i++)
        {
            using var loss = losses[i % 3].ComputeLoss(x, x);
            loss.backward();
            x.grad = null;
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
    }

    [Fact]
    public void Gradients_returned_outside_any_scope_are_released_at_the_next_call()
    {
        using var x = SpladeLike.Embeddings(Large);
        var flops = new FlopsRegularization();
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 20; i++)
        {
            Tensor loss;
            using (NewDisposeScope())
            {
                var embeddings = ModelOutput(x);
                loss = flops.ComputeLoss(embeddings, embeddings).MoveToOuterDisposeScope(); // no outer scope: the caller owns it
            }

            loss.backward(); // outside any scope: the two gradients' wrappers have no scope to join
            loss.Dispose();
            x.grad = null;
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().BeInRange(1, 2, "only the last backward's wrappers wait");
        using (NewDisposeScope())
        {
            flops.ComputeLoss(ModelOutput(x), ModelOutput(x));
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, "the next call released them");
    }

    [Fact]
    public void A_failing_fused_backward_throws_from_backward_instead_of_ending_the_process()
    {
        using var x = SpladeLike.Embeddings(Large);
        using var scope = NewDisposeScope();
        var embeddings = ModelOutput(x);
        var loss = new L1Regularization().ComputeLoss(embeddings, embeddings);
        using (no_grad())
        {
            x.add_(1); // after the forward pass: the saved embeddings are stale
        }

        // The original error cannot cross TorchSharp's native callback; autograd rejects the 0-element gradient instead.
        FluentActions.Invoking(() => loss.backward()).Should().Throw<System.Runtime.InteropServices.ExternalException>()
            .WithMessage("*returned an invalid gradient*got [0]*");
    }

    [Theory]
    [InlineData("L1")]
    [InlineData("L2")]
    [InlineData("FLOPS")]
    [InlineData("DF-FLOPS")]
    public void Create_graph_gives_atens_second_derivatives(string name)
    {
        using var source = Source(ScalarType.Float64, seed: 8, zeroVector: false); // the 2-norm's curvature at 0 is NaN in ATen
        using var direction = randn(Large, dtype: ScalarType.Float64, generator: new Generator(9));
        using var weights = rand(Large[^1], dtype: ScalarType.Float64, generator: new Generator(10));
        var loss = Create(name, weights);

        Tensor HessianTimesDirection(Tensor x)
        {
            var value = loss.ComputeLoss(ModelOutput(x), ModelOutput(x));
            var gradient = autograd.grad([value], [x], retain_graph: true, create_graph: true)[0]; // PyTorch's default under create_graph
            return autograd.grad([gradient.mul(direction).sum()], [x])[0];
        }

        using var fused = Run(source, scoped: true, x => [HessianTimesDirection(x)])[0];
        using var unfused = Run(source, scoped: false, x => [HessianTimesDirection(x)])[0];
        // The same formulas; the double-backward graphs differ in where autograd adds the two sides, which moves the last bit.
        var difference = fused.sub(unfused).abs().max().item<double>();
        difference.Should().BeLessThanOrEqualTo(1e-14 * unfused.abs().max().item<double>(), $"{name}'s Hessian-vector product is ATen's");
        if (name != "L1")
        {
            fused.abs().max().item<double>().Should().BePositive($"{name} has curvature");
        }
    }

    /// <summary>SPLADE-like values with zeros and (by default) an all-zero vector, the 2-norm's 0/0 case, as <paramref name="dtype"/>.</summary>
    private static Tensor Source(ScalarType dtype, ulong seed, bool zeroVector = true)
    {
        using var scope = NewDisposeScope();
        var values = randn(Large, generator: new Generator(seed)).mul(2).sub(1).relu();
        if (zeroVector)
        {
            values[1, 0] = zeros(Large[^1]);
        }

        return values.to(dtype).MoveToOuterDisposeScope();
    }

    private static RegularizationLossFunction Create(string name, Tensor weights) => name == "DF-FLOPS"
        ? new FlopsRegularization(0.25, 0.75, queryTermWeights: weights, docTermWeights: weights)
        : TestLosses.Create(name, 0.25, 0.75);

    /// <summary>
    /// Runs <paramref name="body"/> on a fresh leaf copy of <paramref name="source"/>, inside a dispose scope (the fused
    /// path) or outside any (ATen's backward), and returns detached copies of what it returns.
    /// </summary>
    private static Tensor[] Run(Tensor source, bool scoped, Func<Tensor, Tensor[]> body)
    {
        using var x = source.clone().requires_grad_();
        var scope = scoped ? NewDisposeScope() : null;
        try
        {
            var results = body(x).Select(r => r.detach()).ToArray();
            scope?.MoveToOuter(results);
            return results;
        }
        finally
        {
            scope?.Dispose();
        }
    }

    /// <summary>The value of <paramref name="compute"/> and the leaf's gradient.</summary>
    private static Tensor[] ValueAndGradient(Tensor source, bool scoped, Func<Tensor, Tensor> compute) => Run(source, scoped, x =>
    {
        var loss = compute(x);
        loss.backward();
        return [loss, x.grad!];
    });

    /// <summary>A non-leaf view of <paramref name="leaf"/>, as a model's output is: its gradient flows on through autograd.</summary>
    private static Tensor ModelOutput(Tensor leaf) => leaf.view(leaf.shape);

    /// <summary>Same dtype, shape and numbers (0 and −0 alike).</summary>
    private static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static void ShouldBeTheSameBits(Tensor[] fused, Tensor[] unfused, string what)
    {
        try
        {
            Same(fused[0], unfused[0]).Should().BeTrue($"{what}: {fused[0].to(ScalarType.Float64).item<double>()} against {unfused[0].to(ScalarType.Float64).item<double>()}");
            Same(fused[1], unfused[1]).Should().BeTrue($"every gradient entry of {what} is ATen's");
        }
        finally
        {
            foreach (var t in fused.Concat(unfused))
            {
                t.Dispose();
            }
        }
    }
}
