namespace LightningIr.Regularization.Tests;

/// <summary>Static pruning against PyTorch's results: every rule, float32 and float64, ties included, bit for bit.</summary>
public sealed class PruningGoldenTests
{
    public static TheoryData<string> Cases() => [.. Fixtures.Pruning.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Per_vector_rules_match_PyTorch_exactly(string name)
    {
        var c = Fixtures.PruningCase(name);
        using var scope = NewDisposeScope();
        var x = c.Vectors();
        var mask = c.ScoringMask();

        Values(StaticPruning.TopK(x, c.K, mask), x).Should().Equal(c.ExpectedTopK, "top k");
        Values(StaticPruning.MaxRatio(x, c.Ratio, mask), x).Should().Equal(c.ExpectedMaxRatio, "max ratio");
        Values(StaticPruning.WeightMass(x, c.Mass, mask), x).Should().Equal(c.ExpectedWeightMass, "weight mass");
        Values(StaticPruning.Threshold(x, c.Threshold, mask), x).Should().Equal(c.ExpectedThreshold, "threshold");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Term_centric_rules_over_batches_match_PyTorch_exactly(string name)
    {
        var c = Fixtures.PruningCase(name);
        using var scope = NewDisposeScope();
        var x = c.Vectors();
        var batches = Batches(x, 2);

        var thresholds = IndexPruning.TermTopKThresholds(batches, c.MaxPerTerm);
        var maxima = IndexPruning.TermMaxima(batches);

        thresholds.shape.Should().Equal(x.shape[^1]);
        thresholds.dtype.Should().Be(x.dtype);
        Doubles(thresholds).Should().Equal(c.ExpectedTermThresholds);
        Doubles(maxima).Should().Equal(c.ExpectedTermMaxima);
        Values(StaticPruning.TermMaxRatio(x, maxima, c.Ratio, c.ScoringMask()), x).Should().Equal(c.ExpectedTermMaxRatio);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_collection_threshold_is_the_one_a_full_sort_gives(string name)
    {
        var c = Fixtures.PruningCase(name);
        using var scope = NewDisposeScope();
        var x = c.Vectors();
        var batches = Batches(x, 3);

        foreach (var expected in c.Collection)
        {
            var found = IndexPruning.CollectionThreshold(batches, expected.MaxKept);
            (found.Threshold, found.Kept, found.NonZero).Should().Be((expected.Threshold, expected.Kept, expected.NonZero), $"maxKept = {expected.MaxKept}");
            Nonzero(StaticPruning.Threshold(x, found.Threshold)).Should().Be(found.Kept);
        }

        foreach (var expected in c.Shares)
        {
            var found = IndexPruning.CollectionThresholdForShare(batches, expected.Share);
            (found.Threshold, found.Kept, found.NonZero).Should().Be((expected.Threshold, expected.Kept, expected.NonZero), $"share = {expected.Share}");
        }
    }

    [Fact]
    public void The_fixtures_hold_ties_at_the_boundary_and_both_dtypes()
    {
        Fixtures.Pruning.Select(c => c.Dtype).Distinct().Should().BeEquivalentTo("float32", "float64");
        var ties = Fixtures.PruningCase("ties-f32");
        using var scope = NewDisposeScope();
        var impact = ties.Vectors().abs();
        var kth = impact.topk((int)ties.K).Item1.narrow(-1, ties.K - 1, 1);
        var contested = impact.eq(kth).sum([-1], keepdim: true).gt(impact.gt(kth).sum([-1], keepdim: true).neg().add(ties.K)).logical_and(kth.gt(0));
        contested.any().item<bool>().Should().BeTrue("some vector has a non-zero k-th magnitude shared by an entry that must be cut");
    }

    /// <summary>The collection as row batches of <paramref name="rows"/> vectors (views of <paramref name="x"/>).</summary>
    internal static Tensor[] Batches(Tensor x, long rows)
    {
        var count = (x.shape[0] + rows - 1) / rows;
        return [.. Enumerable.Range(0, (int)count).Select(i => x.narrow(0, i * rows, Math.Min(rows, x.shape[0] - (i * rows))))];
    }

    private static double[] Values(Tensor pruned, Tensor input)
    {
        pruned.shape.Should().Equal(input.shape);
        pruned.dtype.Should().Be(input.dtype);
        pruned.device.type.Should().Be(input.device.type);
        return Doubles(pruned);
    }

    internal static double[] Doubles(Tensor t) => t.to(ScalarType.Float64).cpu().data<double>().ToArray();

    internal static long Nonzero(Tensor t) => t.count_nonzero().item<long>();
}
