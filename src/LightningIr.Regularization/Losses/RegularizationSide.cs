namespace LightningIr.Regularization;

/// <summary>
/// The sides of a bi-encoder batch: the query side, the document side, or both (for what drives or measures one side or
/// both, such as a <see cref="RegularizationWeightScheduler"/>). A loss computes its penalty for one side at a time.
/// </summary>
/// <remarks>Lightning IR names the sides by its <c>query_weight</c> and <c>doc_weight</c> keys.</remarks>
[Flags]
public enum RegularizationSide
{
    /// <summary>The query embeddings, weighted by <see cref="RegularizationLossFunction.QueryWeight"/>.</summary>
    Query = 1,

    /// <summary>The document embeddings, weighted by <see cref="RegularizationLossFunction.DocWeight"/>.</summary>
    Doc = 2,

    /// <summary>Both sides.</summary>
    Both = Query | Doc,
}
