namespace PackageSearch;

/// <summary>One model of the comparison: its regularizer, and the budget that sets λ, or none for fixed λ.</summary>
/// <param name="Name">The model's name in the report.</param>
/// <param name="Regularization">The regularizer it trains with.</param>
/// <param name="DocL0Budget">The document budget (mean terms per document) a <c>SparsityBudget</c> steers λd to; <see langword="null"/> for none.</param>
/// <param name="CostOfBm25">
/// A FLOPS budget stated as a multiple of BM25's cost: the postings BM25 visits per training query, as a fraction of
/// the documents, times this; <see langword="null"/> for none. <see cref="Resolve"/> turns it into <see cref="FlopsBudget"/>.
/// </param>
/// <param name="FlopsBudget">The FLOPS budget (postings visited per query, as a fraction of the documents) a <c>SparsityBudget</c> steers λq and λd to; <see langword="null"/> for none.</param>
public sealed record ModelPlan(string Name, Regularization Regularization, double? DocL0Budget = null, double? CostOfBm25 = null, double? FlopsBudget = null)
{
    /// <summary>Whether a sparsity budget sets λ.</summary>
    public bool Budgeted => DocL0Budget is not null || CostOfBm25 is not null || FlopsBudget is not null;

    /// <summary>The plan with its FLOPS budget set from BM25's cost on this collection (unchanged without <see cref="CostOfBm25"/>).</summary>
    /// <param name="bm25Cost">The postings BM25 visits per training query, as a fraction of the documents.</param>
    public ModelPlan Resolve(double bm25Cost) => CostOfBm25 is double multiple ? this with { FlopsBudget = multiple * bm25Cost } : this;
}
