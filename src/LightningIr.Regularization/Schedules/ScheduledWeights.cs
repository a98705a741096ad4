namespace LightningIr.Regularization;

/// <summary>Which weights of a regularizer a <see cref="RegularizationWeightScheduler"/> drives.</summary>
/// <remarks>Lightning IR's scheduler callbacks address <c>query_weight</c> and <c>doc_weight</c> by their own keys, so each side can have its own schedule.</remarks>
[Flags]
public enum ScheduledWeights
{
    /// <summary>Only <see cref="RegularizationLossFunction.QueryWeight"/>.</summary>
    Query = 1,

    /// <summary>Only <see cref="RegularizationLossFunction.DocWeight"/>.</summary>
    Doc = 2,

    /// <summary>Both weights (the default).</summary>
    Both = Query | Doc,
}
