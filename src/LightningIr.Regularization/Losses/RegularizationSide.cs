namespace LightningIr.Regularization;

/// <summary>Which side of a bi-encoder batch a penalty is computed for.</summary>
public enum RegularizationSide
{
    /// <summary>The query embeddings, weighted by <see cref="RegularizationLossFunction.QueryWeight"/>.</summary>
    Query,

    /// <summary>The document embeddings, weighted by <see cref="RegularizationLossFunction.DocWeight"/>.</summary>
    Doc,
}
