namespace PackageSearch;

/// <summary>The regularization a model is trained with.</summary>
public enum Regularization
{
    /// <summary>Not trained: the encoder's start, BM25's weights in an impact index.</summary>
    Untrained,

    /// <summary>Trained as the others, with λ = 0: what the ranking loss alone does to the index.</summary>
    Unregularized,

    /// <summary>FLOPS (Paria et al., 2020), as in SPLADE.</summary>
    Flops,

    /// <summary>DF-FLOPS (Porco et al., 2025): FLOPS with each term's penalty weighted by its document frequency.</summary>
    DfFlops,
}
