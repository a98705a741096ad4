namespace PackageSearch;

/// <summary>A budgeted model's state after one step: the sparsity measured on the batch, the targets and λ.</summary>
public sealed record BudgetStep(
    int Step, double QueryL0, double QueryTarget, double DocL0, double DocTarget, double QueryWeight, double DocWeight, LightningIr.Regularization.SparsityBudgetStatus Status);
