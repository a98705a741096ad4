namespace LightningIr.Regularization;

/// <summary>
/// Where a <see cref="SparsityBudget"/> target stands, from the best to the worst: <see cref="SparsityBudget.Status"/>
/// reports the worse of its targets. The guide <c>docs/sparsity-budgets.md</c> says what to do about each.
/// </summary>
/// <remarks>No Lightning IR counterpart: Lightning IR sets λ by hand and reports nothing of the kind.</remarks>
public enum SparsityBudgetStatus
{
    /// <summary>The smoothed measurement is within ±10% of the stated target.</summary>
    Tracking,

    /// <summary>
    /// The model is sparser than the target with the weight at <see cref="SparsityBudget.MinWeight"/>: the ranking loss
    /// alone is sparser than the budget, which then costs nothing (the constraint is slack).
    /// </summary>
    Slack,

    /// <summary>The reference the budget steers by is still on its way from the first measurement to the stated target.</summary>
    Warmup,

    /// <summary>The reference has reached the target and the measurement is approaching it, not yet within ±10%.</summary>
    Converging,

    /// <summary>
    /// The measurement has stopped approaching the target while the model is denser than it: the smoothed measurement has
    /// stayed within 10% of one level for 400 updates while the weight grew, or the weight is at
    /// <see cref="SparsityBudget.MaxWeight"/>. The weight no longer grows until the measurement moves again.
    /// </summary>
    Unreachable,

    /// <summary>The targeted vectors are empty, or nearly so: below a hundredth of the target (and, for L0, below one term per vector).</summary>
    Collapsed,
}
