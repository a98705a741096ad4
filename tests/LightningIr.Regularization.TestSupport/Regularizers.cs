namespace LightningIr.Regularization.TestSupport;

/// <summary>The library's regularizers by the names the fixtures, tests and benchmarks use.</summary>
public static class Regularizers
{
    public static readonly string[] Names = ["L2", "L1", "FLOPS"];

    public static RegularizationLossFunction Create(string name, double queryWeight = 1e-4, double docWeight = 1e-4) => name switch
    {
        "L2" => new L2Regularization(queryWeight, docWeight),
        "L1" => new L1Regularization(queryWeight, docWeight),
        "FLOPS" => new FlopsRegularization(queryWeight, docWeight),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown loss"),
    };
}
