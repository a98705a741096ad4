namespace LightningIr.Regularization.Tests;

/// <summary>Creates the losses by the names the fixtures use.</summary>
internal static class TestLosses
{
    public static RegularizationLossFunction Create(string name, double queryWeight = 1e-4, double docWeight = 1e-4) => name switch
    {
        "L2" => new L2Regularization(queryWeight, docWeight),
        "L1" => new L1Regularization(queryWeight, docWeight),
        "FLOPS" => new FlopsRegularization(queryWeight, docWeight),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown loss"),
    };
}
