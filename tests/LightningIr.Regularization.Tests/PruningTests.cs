namespace LightningIr.Regularization.Tests;

/// <summary>Static pruning's rules at their edges, its gradients, memory, refusals and the collection threshold's exactness on random collections.</summary>
public sealed class PruningTests
{
    private static readonly Func<Tensor, Tensor?, Tensor>[] PerVector =
    [
        (x, m) => StaticPruning.TopK(x, 3, m),
        (x, m) => StaticPruning.MaxRatio(x, 0.5, m),
        (x, m) => StaticPruning.WeightMass(x, 0.5, m),
        (x, m) => StaticPruning.Threshold(x, 0.5, m),
        (x, m) => StaticPruning.TermThreshold(x, full(x?.shape[^1] ?? 1, 0.5, x?.dtype), m),
        (x, m) => StaticPruning.TermMaxRatio(x, ones(x?.shape[^1] ?? 1, x?.dtype), 0.5, m),
    ];

    public static TheoryData<int> Rules() => [.. Enumerable.Range(0, PerVector.Length)];

    [Fact]
    public void Top_k_keeps_the_lower_index_among_equal_magnitudes()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0, -2.0, 2.0, 0.5 }).unsqueeze(0);

        Row(StaticPruning.TopK(x, 2)).Should().Equal(0, 2, -2, 0, 0);
        Row(StaticPruning.TopK(x, 4)).Should().Equal(1, 2, -2, 2, 0);
        Row(StaticPruning.TopK(x, 5)).Should().Equal(1, 2, -2, 2, 0.5);
    }

    [Fact]
    public void Top_k_beyond_the_non_zero_entries_keeps_the_vector()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 0.0, 3.0, 0.0, 1.0 }).unsqueeze(0);

        Row(StaticPruning.TopK(x, 3)).Should().Equal(0, 3, 0, 1);
    }

    [Fact]
    public void Ratio_mass_and_threshold_draw_their_lines_where_documented()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 4.0, -2.0, 1.0, 1.0, 0.0 }).unsqueeze(0);

        Row(StaticPruning.MaxRatio(x, 0.5)).Should().Equal([4, -2, 0, 0, 0], "an entry at exactly ratio × max stays");
        Row(StaticPruning.MaxRatio(x, 1)).Should().Equal(4, 0, 0, 0, 0);
        Row(StaticPruning.Threshold(x, 2)).Should().Equal([4, 0, 0, 0, 0], "an entry at exactly the threshold is cut");
        Row(StaticPruning.Threshold(x, 0)).Should().Equal(4, -2, 1, 1, 0);
        Row(StaticPruning.WeightMass(x, 0.5)).Should().Equal([4, 0, 0, 0, 0], "4 alone is half of the mass 8");
        Row(StaticPruning.WeightMass(x, 0.51)).Should().Equal(4, -2, 0, 0, 0);
        Row(StaticPruning.WeightMass(x, 0.8)).Should().Equal([4, -2, 1, 0, 0], "the first of two equal entries comes first");
    }

    [Fact]
    public void A_mass_of_one_keeps_entries_too_small_to_change_the_sum()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 1e-20 }).unsqueeze(0);

        Row(StaticPruning.WeightMass(x, 1)).Should().Equal(1, 1e-20);
        Row(StaticPruning.WeightMass(x, 0.999999)).Should().Equal([1, 0], "below a mass of 1 the rule is the sum's");
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Masked_vectors_come_back_zero_and_shape_dtype_device_stay(int rule)
    {
        foreach (var dtype in new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64 })
        {
            using var scope = NewDisposeScope();
            var x = rand(3, 2, 8, dtype: dtype).add(0.1);
            var mask = tensor(new[] { true, false, true, true, false, true }).reshape(3, 2);

            var pruned = PerVector[rule](x, mask);

            pruned.shape.Should().Equal(3, 2, 8);
            pruned.dtype.Should().Be(dtype);
            pruned.device.type.Should().Be(DeviceType.CPU);
            pruned[0, 1].count_nonzero().item<long>().Should().Be(0);
            pruned[2, 0].count_nonzero().item<long>().Should().Be(0);
            pruned[0, 0].count_nonzero().item<long>().Should().BeGreaterThan(0);
            where(pruned.ne(0), pruned.sub(x), zeros_like(x)).abs().max().to(ScalarType.Float64).item<double>().Should().Be(0, "kept entries keep their values");
        }
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Gradients_pass_through_kept_entries_only(int rule)
    {
        using var scope = NewDisposeScope();
        var x = rand(4, 10, dtype: ScalarType.Float64).add(0.1).requires_grad_();

        var pruned = PerVector[rule](x, null);
        pruned.sum().backward();

        Row(x.grad!.flatten()).Should().Equal(Row(pruned.detach().ne(0).to(ScalarType.Float64).flatten()));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Only_the_result_stays_alive_and_repeated_calls_leak_nothing(int rule)
    {
        using var x = rand(8, 64).add(0.01);
        using var mask = ones(8, dtype: ScalarType.Bool);
        Tensor result;
        using (var scope = NewDisposeScope())
        {
            DisposeScopeManager.Statistics.Reset();
            result = PerVector[rule](x, mask);
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().BeLessThanOrEqualTo(2, "the result, and the per-term tensor the test built");
        }

        result.IsInvalid.Should().BeTrue("the caller's scope disposed the result");
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            PerVector[rule](x, mask);
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, DisposeScopeManager.Statistics.ToString());
    }

    [Fact]
    public void Bad_arguments_are_refused_with_messages_and_change_nothing()
    {
        using var scope = NewDisposeScope();
        var x = rand(3, 6);
        var before = x.clone();

        Refused<ArgumentOutOfRangeException>(() => StaticPruning.TopK(x, 0), "k must be between 1 and the vectors' length 6, but was 0");
        Refused<ArgumentOutOfRangeException>(() => StaticPruning.TopK(x, 7), "but was 7");
        foreach (var bad in new[] { 0, -0.1, 1.5, double.NaN, double.PositiveInfinity })
        {
            Refused<ArgumentOutOfRangeException>(() => StaticPruning.MaxRatio(x, bad), "ratio must be in (0, 1]");
            Refused<ArgumentOutOfRangeException>(() => StaticPruning.WeightMass(x, bad), "mass must be in (0, 1]");
            Refused<ArgumentOutOfRangeException>(() => StaticPruning.TermMaxRatio(x, ones(6), bad), "ratio must be in (0, 1]");
            Refused<ArgumentOutOfRangeException>(() => IndexPruning.CollectionThresholdForShare([x], bad), "share must be in (0, 1]");
        }

        foreach (var bad in new[] { -1e-9, double.NaN, double.PositiveInfinity })
        {
            Refused<ArgumentOutOfRangeException>(() => StaticPruning.Threshold(x, bad), "A pruning threshold must be a finite number ≥ 0");
        }

        foreach (var rule in PerVector)
        {
            Refused<ArgumentException>(() => rule(x, ones(3, 1, dtype: ScalarType.Bool)), "The input scoring mask must have shape [3]");
            Refused<ArgumentException>(() => rule(x, ones(3)), "scoring mask must be a boolean tensor");
            Refused<ArgumentException>(() => rule(arange(6).reshape(1, 6), null), "The input embeddings must be a floating-point tensor");
            Refused<ArgumentNullException>(() => rule(null!, null), "vectors");
        }

        Row(StaticPruning.TopK(x, 1)).Should().HaveCount(18, "k = 1 is allowed");
        var disposed = ones(6);
        disposed.Dispose();
        Refused<ArgumentException>(() => StaticPruning.TermThreshold(x, disposed), "The termThresholds tensor has been disposed");
        Refused<ArgumentException>(() => StaticPruning.TermMaxRatio(x, ones(6, device: new Device(DeviceType.META)), 0.5), "Found the termMaxima on meta and the vectors on");
        Refused<ArgumentException>(() => StaticPruning.TermThreshold(x, ones(5)), "termThresholds must hold one value per term, shape [6], but has shape [5]");
        Refused<ArgumentException>(() => StaticPruning.TermThreshold(x, ones(6, dtype: ScalarType.Float64)), "must have the vectors' dtype Float32");
        Refused<ArgumentException>(() => StaticPruning.TermMaxRatio(x, ones(1, 6), 0.5), "termMaxima must hold one value per term");
        Refused<ArgumentException>(() => StaticPruning.TopK(arange(6).reshape(1, 6), 2), "floating-point tensor");
        Refused<ArgumentException>(() => StaticPruning.TopK(ones(6), 2), "rank 2 or more");
        Refused<ArgumentNullException>(() => StaticPruning.TopK(null!, 2), "vectors");
        Refused<ArgumentNullException>(() => StaticPruning.TermThreshold(x, null!), "termThresholds");
        Refused<ArgumentOutOfRangeException>(() => IndexPruning.CollectionThreshold([x], -1), "maxKept");
        Refused<ArgumentOutOfRangeException>(() => IndexPruning.TermTopKThresholds([x], 0), "maxPerTerm");
        Refused<ArgumentOutOfRangeException>(() => IndexPruning.TermTopKThresholds([x], int.MaxValue), "maxPerTerm");
        Refused<ArgumentNullException>(() => IndexPruning.TermMaxima(null!), "batches");
        Refused<ArgumentNullException>(() => IndexPruning.TermTopKThresholds(null!, 2), "batches");
        Refused<ArgumentNullException>(() => IndexPruning.CollectionThreshold(null!, 2), "batches");
        Refused<ArgumentNullException>(() => IndexPruning.CollectionThresholdForShare(null!, 0.5), "batches");

        Row(x).Should().Equal(Row(before), "a refusal changes nothing");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_entries_are_refused_by_every_function(double bad)
    {
        using var x = rand(3, 2, 6);
        x[1, 1, 4] = tensor((float)bad);
        using var before = x.clone();
        using var clean = rand(2, 2, 6);

        DisposeScopeManager.Statistics.Reset();
        foreach (var rule in PerVector)
        {
            using var scope = NewDisposeScope();
            Refused<ArgumentException>(() => rule(x, null), "NaN or infinite entries");
        }

        foreach (var batches in new[] { new[] { clean, x }, [x, clean] })
        {
            Refused<ArgumentException>(() => IndexPruning.CollectionThreshold(batches, 3), "NaN or infinite entries");
            Refused<ArgumentException>(() => IndexPruning.CollectionThresholdForShare(batches, 0.5), "NaN or infinite entries");
            Refused<ArgumentException>(() => IndexPruning.TermTopKThresholds(batches, 1), "NaN or infinite entries");
            Refused<ArgumentException>(() => IndexPruning.TermMaxima(batches), "NaN or infinite entries");
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, "a refusal leaves nothing alive");
        using (var scope = NewDisposeScope())
        {
            Row(x).Should().Equal(Row(before));
        }
    }

    [Fact]
    public void Collections_that_do_not_fit_together_are_refused()
    {
        using var scope = NewDisposeScope();
        var a = rand(2, 6);

        Refused<ArgumentException>(() => IndexPruning.CollectionThreshold([], 3), "no batches");
        Refused<ArgumentException>(() => IndexPruning.TermMaxima([]), "no batches");
        Refused<ArgumentException>(() => IndexPruning.CollectionThreshold([a, rand(2, 6, dtype: ScalarType.Float64)], 3), "first batch's dtype Float32 and length 6");
        Refused<ArgumentException>(() => IndexPruning.TermTopKThresholds([a, rand(2, 5)], 1), "but one has dtype Float32 and shape [2, 5]");
        Refused<ArgumentException>(() => IndexPruning.TermMaxima([a, rand(2, 6, device: new Device(DeviceType.META))]), "first batch's device");
        Refused<ArgumentNullException>(() => IndexPruning.CollectionThreshold([a, null!], 3), "null batch");
        Refused<ArgumentException>(() => IndexPruning.TermMaxima([arange(6).reshape(1, 6)]), "The batch embeddings must be a floating-point tensor");
    }

    [Fact]
    public void A_collection_that_changes_between_passes_is_refused()
    {
        var pass = 0;
        IEnumerable<Tensor> Changing()
        {
            pass++;
            // The second pass holds half the entries of the first pass's boundary bin (all 64 tie at 0.75).
            yield return pass == 1 ? full(4, 16, 0.75f) : full(4, 16, 0.75f).mul(arange(16).remainder(2));
        }

        Refused<InvalidOperationException>(() => IndexPruning.CollectionThreshold(Changing(), 5), "changed between two passes");
    }

    [Theory]
    [InlineData(ScalarType.Float16, 1)]
    [InlineData(ScalarType.BFloat16, 1)]
    [InlineData(ScalarType.Float32, 2)]
    [InlineData(ScalarType.Float64, 4)]
    public void The_collection_threshold_matches_sorting_every_entry(ScalarType dtype, int passes)
    {
        var generator = new Random(17);
        for (var trial = 0; trial < 12; trial++)
        {
            using var scope = NewDisposeScope();
            var rows = generator.Next(1, 40);
            var spread = dtype is ScalarType.Float16 ? 1.5 : 8; // float16 ends at 65,504
            var x = randn(rows, 32, dtype: ScalarType.Float64).mul(exp(randn(rows, 32, dtype: ScalarType.Float64).mul(spread)));
            x = x.mul(rand(rows, 32, dtype: ScalarType.Float64).gt(0.4)).to(dtype);
            if (trial % 3 == 0)
            {
                x = x.mul(4).round().div(4); // ties
            }

            if (trial % 4 == 1)
            {
                // The dtype's largest finite and smallest positive magnitudes, at the ends of the exponent digit.
                x[0, 0] = tensor(dtype switch { ScalarType.Float16 => 65504.0, ScalarType.Float64 => double.MaxValue, _ => 3.3895313892515355e38 }).to(dtype);
                x[0, 1] = tensor(dtype switch { ScalarType.Float16 => Math.ScaleB(1, -24), ScalarType.BFloat16 => Math.ScaleB(1, -133), ScalarType.Float32 => Math.ScaleB(1, -149), _ => double.Epsilon }).to(dtype);
            }

            var all = x.abs().to(ScalarType.Float64).flatten().data<double>().ToArray().Where(v => v != 0).OrderDescending().ToArray();
            var maxKept = trial == 1 ? all.Length : generator.Next(0, all.Length + 1);
            var expected = maxKept >= all.Length ? 0 : all[maxKept];

            var found = IndexPruning.CollectionThreshold(PruningGoldenTests.Batches(x, generator.Next(1, 9)), maxKept);

            found.Threshold.Should().Be(expected, $"trial {trial}, {all.Length} entries, maxKept {maxKept}");
            found.Kept.Should().Be(all.Count(v => v > expected));
            found.NonZero.Should().Be(all.Length);
            found.Passes.Should().Be(maxKept >= all.Length ? 1 : passes);
        }
    }

    [Fact]
    public void Batches_made_while_enumerating_are_disposed_and_given_ones_are_not()
    {
        using var given = rand(3, 12);
        var made = new List<Tensor>();
        IEnumerable<Tensor> Lazy()
        {
            yield return given;
            var t = given.mul(2);
            made.Add(t);
            yield return t;
        }

        DisposeScopeManager.Statistics.Reset();
        IndexPruning.CollectionThreshold(Lazy(), 10).Passes.Should().Be(2);
        using (var maxima = IndexPruning.TermMaxima(Lazy()))
        using (var thresholds = IndexPruning.TermTopKThresholds(Lazy(), 2))
        {
            maxima.shape.Should().Equal(12);
            thresholds.shape.Should().Equal(12);
        }

        made.Should().HaveCount(4).And.OnlyContain(t => t.IsInvalid);
        given.IsInvalid.Should().BeFalse();
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, DisposeScopeManager.Statistics.ToString());
    }

    [Fact]
    public void Term_thresholds_keep_the_k_largest_entries_of_each_posting_list()
    {
        using var scope = NewDisposeScope();
        var x = rand(50, 20).mul(rand(50, 20).gt(0.3));
        var thresholds = IndexPruning.TermTopKThresholds(PruningGoldenTests.Batches(x, 7), 5);

        var kept = StaticPruning.TermThreshold(x, thresholds).ne(0).sum([0]);

        Row(kept).Should().AllBeEquivalentTo(5, "without ties every list keeps exactly k");
        Row(StaticPruning.TermThreshold(x, thresholds).amax([0])).Should().Equal(Row(x.amax([0])), "the largest entries are the ones kept");
    }

    private static double[] Row(Tensor t) => PruningGoldenTests.Doubles(t.flatten());

    private static void Refused<TException>(Func<object> call, string message)
        where TException : Exception
        => call.Should().Throw<TException>().Where(e => e.GetType() == typeof(TException)).WithMessage($"*{message}*");
}
