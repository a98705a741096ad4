namespace LightningIr.Regularization;

/// <summary>
/// What a <see cref="SparsityBudget"/> carries from one update to the next, for checkpoints: saved with the model and
/// restored with <see cref="SparsityBudget.LoadState"/>, it continues the run bit for bit. A plain record of numbers, so
/// any serializer writes it (System.Text.Json does as it is).
/// </summary>
/// <remarks>No Lightning IR counterpart; after PyTorch's <c>state_dict</c> and <c>load_state_dict</c>.</remarks>
/// <param name="Step">The number of updates so far.</param>
/// <param name="QueryWeight">The query weight λq the budget set last.</param>
/// <param name="DocWeight">The document weight λd the budget set last.</param>
/// <param name="QueryL0">The query L0 target's controller, or <see langword="null"/> before its first measurement or when not targeted.</param>
/// <param name="DocL0">The document L0 target's controller, or <see langword="null"/> before its first measurement or when not targeted.</param>
/// <param name="Flops">The FLOPS target's controller, or <see langword="null"/> before its first measurement or when not targeted.</param>
/// <param name="Settings">The targets and options of the budget that saved the state; <see cref="SparsityBudget.LoadState"/> refuses a state of another budget.</param>
/// <param name="PreviousDocFractions">
/// For a FLOPS target, the fraction of the last batch's document vectors in which each term is non-zero: the next update
/// measures its queries against them. <see langword="null"/> before the first update and for L0 targets. Read-only: a budget
/// keeps its own copy of the fractions it is given.
/// </param>
/// <param name="LawVersion">
/// The version of the control law that saved the state (<see cref="SparsityBudgetState.CurrentLawVersion"/>);
/// <see cref="SparsityBudget.LoadState"/> refuses a state of another version, whose controllers mean something else.
/// </param>
public sealed record SparsityBudgetState(
    long Step,
    double QueryWeight,
    double DocWeight,
    SparsityTargetState? QueryL0,
    SparsityTargetState? DocL0,
    SparsityTargetState? Flops,
    SparsityBudgetSettings Settings,
    IReadOnlyList<double>? PreviousDocFractions = null,
    int LawVersion = 0)
{
    /// <summary>
    /// The version of the control law this library's budgets run: 4 (λ moved by the model's speed towards the target, with
    /// the windup bounded both ways, and <c>Tracking</c> only for a target held 25 updates; version 3 moved λ the same way
    /// and read <c>Tracking</c> from one update, version 2 walked a reference at an adaptive pace, version 1, unnumbered, at 1% per update).
    /// </summary>
    public const int CurrentLawVersion = 4;
}

/// <summary>One target's controller between updates (see <c>docs/sparsity-budgets.md</c>, "How it moves λ").</summary>
/// <remarks>No Lightning IR counterpart.</remarks>
/// <param name="Start">The first measurement.</param>
/// <param name="Reference">The level the budget steers the measurement to now: the target, or an explicit warmup's level on its way there from <paramref name="Start"/>.</param>
/// <param name="Smoothed">The measurement smoothed over about ten updates (geometrically), which the status reads.</param>
/// <param name="Anchor">The smoothed measurement when it last moved by more than 5%, or was within 10% of the target.</param>
/// <param name="AnchorStep">The update at which <paramref name="Anchor"/> was taken.</param>
/// <param name="Status">The target's status after the last update.</param>
/// <param name="Velocity">The smoothed measurement's velocity: a running mean of its change of ln per update (negative: getting sparser).</param>
/// <param name="Rise">How far ln λ has moved since <paramref name="AnchorStep"/>; it stays within ±ln 80.</param>
/// <param name="HeldSince">
/// The update from which <paramref name="Smoothed"/> has been within ±10% of the stated target without a break, or −1
/// when it is not: a target reads <c>Tracking</c> once it has held 25 updates.
/// </param>
public sealed record SparsityTargetState(
    double Start, double Reference, double Smoothed, double Anchor, long AnchorStep, SparsityBudgetStatus Status, double Velocity = 0, double Rise = 0, long HeldSince = -1);

/// <summary>The targets and options of a <see cref="SparsityBudget"/>, as its state records them.</summary>
/// <remarks>No Lightning IR counterpart.</remarks>
/// <param name="QueryL0">The query L0 target, or <see langword="null"/>.</param>
/// <param name="DocL0">The document L0 target, or <see langword="null"/>.</param>
/// <param name="Flops">The FLOPS target, or <see langword="null"/>.</param>
/// <param name="WarmupSteps">The explicit warmup's length in updates; 0 for the built-in reference.</param>
/// <param name="UpdateRate">The integrator's rate.</param>
/// <param name="MinWeight">The smallest weight.</param>
/// <param name="MaxWeight">The largest weight.</param>
public sealed record SparsityBudgetSettings(
    double? QueryL0, double? DocL0, double? Flops, long WarmupSteps, double UpdateRate, double MinWeight, double MaxWeight);
