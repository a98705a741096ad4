using System.Text.Json;
using System.Text.Json.Serialization;

namespace LightningIr.Regularization.Tests;

/// <summary>The golden values written by reference/generate_fixtures.py with real PyTorch.</summary>
internal static class Fixtures
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };
    private static readonly Lazy<FixtureFile> File = new(Load);

    public static IReadOnlyList<LossCase> Losses => File.Value.Losses;

    public static IReadOnlyList<MetricCase> Metrics => File.Value.Metrics;

    public static IReadOnlyList<DocumentFrequencyWeightCase> DocumentFrequencyWeights => File.Value.DocumentFrequencyWeights;

    public static IReadOnlyList<PruningCase> Pruning => File.Value.Pruning;

    public static PruningCase PruningCase(string name) => Pruning.Single(c => c.Name == name);

    public static LossCase Loss(string name) => Losses.Single(c => c.Name == name);

    public static MetricCase Metric(string name) => Metrics.Single(c => c.Name == name);

    public static ScalarType DType(string name) => name switch
    {
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown dtype"),
    };

    private static FixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "reference", "fixtures.json");
        using var stream = System.IO.File.OpenRead(path);
        return JsonSerializer.Deserialize<FixtureFile>(stream, Options)
            ?? throw new InvalidDataException($"{path} is empty");
    }
}

internal sealed record FixtureFile(
    string Torch, IReadOnlyList<LossCase> Losses, IReadOnlyList<MetricCase> Metrics, IReadOnlyList<DocumentFrequencyWeightCase> DocumentFrequencyWeights,
    IReadOnlyList<PruningCase> Pruning);

/// <summary>Static pruning of one input by every rule, computed by PyTorch (ties broken by a stable sort).</summary>
internal sealed record PruningCase(
    string Name,
    string Dtype,
    TensorRecord Input,
    long K,
    double Ratio,
    double Mass,
    double Threshold,
    long MaxPerTerm,
    double[] ExpectedTopK,
    double[] ExpectedMaxRatio,
    double[] ExpectedWeightMass,
    double[] ExpectedThreshold,
    double[] ExpectedTermThresholds,
    double[] ExpectedTermMaxima,
    double[] ExpectedTermMaxRatio,
    IReadOnlyList<CollectionThresholdCase> Collection,
    IReadOnlyList<CollectionThresholdCase> Shares,
    TensorRecord? Mask = null)
{
    public ScalarType ScalarType => Fixtures.DType(Dtype);

    /// <summary>The input in its dtype, in the caller's dispose scope.</summary>
    public Tensor Vectors() => Input.ToTensor(ScalarType);

    /// <summary>The scoring mask, if the case has one, in the caller's dispose scope.</summary>
    public Tensor? ScoringMask() => Mask?.ToTensor(ScalarType.Float64).gt(0);

    public override string ToString() => Name;
}

/// <summary>The collection threshold PyTorch's full sort gives for one limit.</summary>
internal sealed record CollectionThresholdCase(long MaxKept, double Threshold, long Kept, long NonZero, double Share = 0);

/// <summary>DF-FLOPS's activation at chosen fractions, computed by PyTorch in float64.</summary>
internal sealed record DocumentFrequencyWeightCase(double Alpha, double Beta, double[] Fractions, double[] Expected)
{
    public override string ToString() => $"α={Alpha}, β={Beta}";
}

internal sealed record TensorRecord(long[] Shape, double[] Values)
{
    /// <summary>Rebuilds the exact tensor: every stored value is representable in <paramref name="dtype"/>.</summary>
    public Tensor ToTensor(ScalarType dtype, bool requiresGrad = false)
    {
        using var scope = NewDisposeScope();
        var t = tensor(Values, Shape, ScalarType.Float64).to(dtype).requires_grad_(requiresGrad);
        return t.MoveToOuterDisposeScope();
    }
}

internal sealed record LossCase(
    string Name,
    string Loss,
    string Dtype,
    double QueryWeight,
    double DocWeight,
    TensorRecord Query,
    TensorRecord Doc,
    double ExpectedLoss,
    double ExpectedQueryPart,
    double ExpectedDocPart,
    double[] ExpectedQueryGrad,
    double[] ExpectedDocGrad,
    [property: JsonPropertyName("queryThreshold")] int? QueryThreshold = null,
    [property: JsonPropertyName("docThreshold")] int? DocThreshold = null,
    TensorRecord? QueryTermWeights = null,
    TensorRecord? DocTermWeights = null,
    TensorRecord? QueryMask = null,
    TensorRecord? DocMask = null)
{
    public ScalarType ScalarType => Fixtures.DType(Dtype);

    /// <summary>The loss with the case's settings; term weights are created in the caller's dispose scope.</summary>
    public RegularizationLossFunction CreateLoss()
    {
        var loss = Loss == "FLOPS"
            ? new FlopsRegularization(
                QueryWeight, DocWeight, QueryThreshold, DocThreshold, QueryTermWeights?.ToTensor(ScalarType), DocTermWeights?.ToTensor(ScalarType))
            : TestLosses.Create(Loss, QueryWeight, DocWeight);
        loss.UseScoringMask = QueryMask is not null || DocMask is not null;
        return loss;
    }

    /// <summary>The case's output around the given embeddings, with its scoring masks if it has them.</summary>
    public BiEncoderOutput Output(Tensor query, Tensor doc)
        => TestLosses.Output(query, doc, QueryMask?.ToTensor(ScalarType.Float64).gt(0), DocMask?.ToTensor(ScalarType.Float64).gt(0));

    public override string ToString() => Name;
}

internal sealed record MetricCase(
    string Name,
    TensorRecord Query,
    TensorRecord Doc,
    double QueryL0,
    double DocL0,
    double QuerySparsityRatio,
    double DocSparsityRatio,
    double Flops)
{
    public override string ToString() => Name;
}

/// <summary>How close a result must be to PyTorch's, by dtype: a few units in the last place.</summary>
internal static class Tolerance
{
    public static double Relative(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 1e-12,
        ScalarType.Float32 => 2e-6,
        ScalarType.Float16 => 2e-3,
        ScalarType.BFloat16 => 1.6e-2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a float dtype"),
    };

    /// <summary>Asserts |actual − expected| ≤ rtol · max(|expected|, scale) elementwise.</summary>
    public static void AssertClose(double[] actual, double[] expected, ScalarType dtype, string what)
    {
        actual.Length.Should().Be(expected.Length, what);
        var scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        var rtol = Relative(dtype);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = rtol * Math.Max(Math.Abs(expected[i]), scale * 1e-3) + double.Epsilon;
            Math.Abs(actual[i] - expected[i]).Should().BeLessThanOrEqualTo(bound, $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
        }
    }

    public static void AssertClose(double actual, double expected, ScalarType dtype, string what)
        => AssertClose([actual], [expected], dtype, what);
}
