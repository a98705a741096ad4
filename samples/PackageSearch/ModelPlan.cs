namespace PackageSearch;

/// <summary>One model of the comparison: its regularizer, and the document budget that sets λd, or none for fixed λ.</summary>
/// <param name="Name">The model's name in the report.</param>
/// <param name="Regularization">The regularizer it trains with.</param>
/// <param name="DocL0Budget">The document budget (mean terms per document) a <c>SparsityBudget</c> steers λd to; <see langword="null"/> for fixed λ.</param>
public sealed record ModelPlan(string Name, Regularization Regularization, double? DocL0Budget = null)
{
    /// <summary>Whether a sparsity budget sets λ.</summary>
    public bool Budgeted => DocL0Budget is not null;
}
