using System.Globalization;

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

    /// <summary>
    /// The document budgets of the default run, in terms per document vector before quantization: about BM25's postings
    /// per document (33.5) and a little above, far below the unregularized model's thousands, where a budget binds. The
    /// penalty acts on the expansions, so a budget chooses which expansions a document keeps beside its own terms.
    /// </summary>
    public static IReadOnlyList<double> DefaultDocBudgets { get; } = [33, 40];

    /// <summary>
    /// The FLOPS budgets of the default run, as multiples of BM25's cost on the collection (the postings it visits per
    /// training query): the budget is measured before quantization, which serves less.
    /// </summary>
    public static IReadOnlyList<double> DefaultCosts { get; } = [1.0, 1.25];

    /// <summary>
    /// The models a run trains, in the order of the report: the start, λ = 0, fixed λ, then one budget per document
    /// target and one per cost (a FLOPS budget as a multiple of BM25's cost).
    /// </summary>
    public static IReadOnlyList<ModelPlan> Plans(IReadOnlyList<double> docBudgets, IReadOnlyList<double> costs)
    {
        ArgumentNullException.ThrowIfNull(docBudgets);
        ArgumentNullException.ThrowIfNull(costs);
        return
        [
            new("BM25 start (untrained)", Regularization.Untrained),
            new(Experiment.UnregularizedName, Regularization.Unregularized),
            new("FLOPS, fixed λ", Regularization.Flops),
            new("DF-FLOPS, fixed λ", Regularization.DfFlops),
            .. docBudgets.Select(d => new ModelPlan(string.Create(CultureInfo.InvariantCulture, $"DF-FLOPS, budget {d:G4}"), Regularization.DfFlops, d)),
            .. costs.Select(c => new ModelPlan(string.Create(CultureInfo.InvariantCulture, $"DF-FLOPS, {c:G4}× BM25's cost"), Regularization.DfFlops, CostOfBm25: c)),
        ];
    }
}

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
