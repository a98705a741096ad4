namespace PackageSearch;

/// <summary>A budgeted model's state after one step: the sparsity measured on the batch, the targets and λ (0 where a figure has no budget).</summary>
/// <param name="Step">The training step.</param>
/// <param name="QueryL0">The batch's query L0 (mean terms per query).</param>
/// <param name="QueryTarget">The query level the budget steered to.</param>
/// <param name="DocL0">The batch positives' document L0 (mean terms per document).</param>
/// <param name="DocTarget">The document level the budget steered to.</param>
/// <param name="Flops">The batch's FLOPS figure: its queries against the previous batch's positives (its own at the first step), Σⱼ pⱼ(q)·pⱼ(d).</param>
/// <param name="FlopsTarget">The FLOPS level the budget steered to.</param>
/// <param name="QueryWeight">λq after the update.</param>
/// <param name="DocWeight">λd after the update.</param>
/// <param name="Status">The budget's status after the update.</param>
public sealed record BudgetStep(
    int Step,
    double QueryL0,
    double QueryTarget,
    double DocL0,
    double DocTarget,
    double Flops,
    double FlopsTarget,
    double QueryWeight,
    double DocWeight,
    LightningIr.Regularization.SparsityBudgetStatus Status);
