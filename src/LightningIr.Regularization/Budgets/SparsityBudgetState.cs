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
/// <param name="QueryMultiplier">The accumulated multiplier of λq: the weight before this step's proportional reaction.</param>
/// <param name="DocMultiplier">The accumulated multiplier of λd.</param>
/// <param name="QueryStart">The first measured query L0, where the target's warmup starts; <see langword="null"/> before the first update or when not targeted.</param>
/// <param name="DocStart">The first measured document L0; <see langword="null"/> before the first update or when not targeted.</param>
/// <param name="FlopsStart">The first measured FLOPS figure; <see langword="null"/> before the first update or when not targeted.</param>
public sealed record SparsityBudgetState(
    long Step, double QueryWeight, double DocWeight, double QueryMultiplier, double DocMultiplier, double? QueryStart, double? DocStart, double? FlopsStart);
