using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace LightningIr.Regularization.Tests;

/// <summary>Invariants of the three losses over random shapes, values and weights (float64).</summary>
public sealed class PropertyTests
{
    /// <summary>A random case: a loss, shapes with 1–6 vectors of 1–9 entries, seeded values.</summary>
    public sealed record RandomCase(string Loss, long[] QueryShape, long[] DocShape, int Seed);

    public static class Generators
    {
        public static Arbitrary<RandomCase> Cases() => (
            from loss in Gen.Elements(TestLosses.Names)
            from qBatch in Gen.Choose(1, 6)
            from dBatch in Gen.Choose(1, 6)
            from seq in Gen.Choose(0, 3)
            from dim in Gen.Choose(1, 9)
            from seed in Gen.Choose(0, int.MaxValue)
            select new RandomCase(
                loss,
                seq == 0 ? [qBatch, dim] : [qBatch, seq, dim],
                seq == 0 ? [dBatch, dim] : [dBatch, seq, dim],
                seed)).ToArbitrary();
    }

    private static (Tensor Query, Tensor Doc) Embeddings(RandomCase c)
    {
        var generator = new Generator((ulong)c.Seed);
        var query = randn(c.QueryShape, dtype: ScalarType.Float64, generator: generator);
        var doc = randn(c.DocShape, dtype: ScalarType.Float64, generator: generator).relu();
        return (query, doc);
    }

    private static double Loss(string name, Tensor query, Tensor doc, double queryWeight = 0.3, double docWeight = 0.6)
        => TestLosses.Create(name, queryWeight, docWeight)
            .ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc))).item<double>();

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-10 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 60)]
    public bool Losses_are_non_negative_and_finite(RandomCase c)
    {
        using var scope = NewDisposeScope();
        var (query, doc) = Embeddings(c);
        var value = Loss(c.Loss, query, doc);
        return value >= 0 && double.IsFinite(value);
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 60)]
    public Property L1_and_L2_are_1_homogeneous_and_FLOPS_2_homogeneous(RandomCase c, PositiveInt tenths)
    {
        using var scope = NewDisposeScope();
        var factor = tenths.Item / 10.0;
        var degree = c.Loss == "FLOPS" ? 2 : 1;
        var (query, doc) = Embeddings(c);
        var scaled = Loss(c.Loss, query.mul(factor), doc.mul(factor));
        var expected = Math.Pow(factor, degree) * Loss(c.Loss, query, doc);
        return Close(scaled, expected).Label($"{scaled} vs {expected}");
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 60)]
    public bool Permuting_the_batch_changes_nothing(RandomCase c)
    {
        using var scope = NewDisposeScope();
        var (query, doc) = Embeddings(c);
        var generator = new Generator((ulong)c.Seed + 1);
        var permutedQuery = query[randperm(query.shape[0], generator: generator)];
        var permutedDoc = doc[randperm(doc.shape[0], generator: generator)];
        return Close(Loss(c.Loss, permutedQuery, permutedDoc), Loss(c.Loss, query, doc));
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 60)]
    public bool Flipping_signs_changes_nothing(RandomCase c)
    {
        using var scope = NewDisposeScope();
        var (query, doc) = Embeddings(c);
        return Close(Loss(c.Loss, query.neg(), doc.neg()), Loss(c.Loss, query, doc));
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 60)]
    public bool Loss_is_linear_in_the_weights(RandomCase c, NonNegativeInt a, NonNegativeInt b)
    {
        using var scope = NewDisposeScope();
        var (query, doc) = Embeddings(c);
        double queryWeight = a.Item / 7.0, docWeight = b.Item / 3.0;
        var combined = Loss(c.Loss, query, doc, queryWeight, docWeight);
        var separate = (queryWeight * Loss(c.Loss, query, doc, 1, 0)) + (docWeight * Loss(c.Loss, query, doc, 0, 1));
        return Close(combined, separate);
    }
}
