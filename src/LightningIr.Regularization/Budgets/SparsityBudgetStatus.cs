namespace LightningIr.Regularization;

/// <summary>
/// Where a <see cref="SparsityBudget"/> target stands, from the best to the worst: <see cref="SparsityBudget.Status"/>
/// reports the worse of its targets. The guide <c>docs/sparsity-budgets.md</c> says what to do about each.
/// </summary>
/// <remarks>No Lightning IR counterpart: Lightning IR sets λ by hand and reports nothing of the kind.</remarks>
public enum SparsityBudgetStatus
{
    /// <summary>
    /// The smoothed measurement has been within ±10% of the stated target for the last 25 updates: the target is held,
    /// not passed through.
    /// </summary>
    Tracking,

    /// <summary>
    /// The model is more than 10% sparser than the target with the weight at its floor (<see cref="SparsityBudget.MinWeight"/>,
    /// or lowered 80 times since the measurement last moved), and did
    /// not start more than 10% denser than the target: the ranking loss alone is sparser than the budget, which then costs
    /// nothing (the constraint is slack).
    /// </summary>
    Slack,

    /// <summary>Before the first update, or an explicit warmup's level is still on its way from the first measurement to the stated target.</summary>
    Warmup,

    /// <summary>
    /// The budget steers to the stated target and the measurement is more than 10% off it, or within 10% but not yet held
    /// there for 25 updates (arriving, or swinging through), with the weight still free to move.
    /// </summary>
    Converging,

    /// <summary>
    /// The measurement has stopped responding while the model is more than 10% denser than the target: the smoothed
    /// measurement has stayed within 5% of its anchor for 200 updates, or the weight has risen 80 times above its value
    /// there, or it is at <see cref="SparsityBudget.MaxWeight"/>. The weight no longer grows until the measurement moves
    /// again.
    /// </summary>
    Unreachable,

    /// <summary>
    /// The targeted vectors are empty, or nearly so (for L0, below a tenth of the target or one term per vector; for FLOPS,
    /// below a hundredth of the target), or the budget drove them from more than 10% above the target to more than 10% below
    /// it and holds the weight at its floor: their terms died.
    /// </summary>
    Collapsed,
}
