namespace LightningIr.Regularization;

/// <summary>
/// 0 during the delay, <c>((step − delay) / warmup)²</c> during the warmup, then 1: SPLADE's schedule.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.schedulers.ConstantSchedulerWithQuadraticWarmup</c>; without a delay it is
/// naver/splade's <c>RegWeightScheduler</c> (Formal et al., SPLADE v2, arXiv:2109.10086).
/// </remarks>
/// <example>
/// <code>
/// var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 50_000);
/// schedule.Step(25_000);   // flops.QueryWeight is now a quarter of its base value
/// </code>
/// </example>
public class ConstantSchedulerWithQuadraticWarmup : RegularizationWeightScheduler
{
    /// <summary>Creates the scheduler; it captures the loss's current weights as the base weights.</summary>
    /// <param name="regularizer">The regularizer whose weights the scheduler drives.</param>
    /// <param name="numWarmupSteps">Steps over which the value rises quadratically from 0 to 1, after the delay.</param>
    /// <param name="numDelaySteps">Steps at the start during which the value is 0.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <param name="sides">Which weights to drive: both (default), or one side for a per-side schedule.</param>
    /// <exception cref="ArgumentOutOfRangeException">A step count is negative, or <paramref name="sides"/> names no side.</exception>
    public ConstantSchedulerWithQuadraticWarmup(RegularizationLossFunction regularizer, long numWarmupSteps, long numDelaySteps = 0, RegularizationSide sides = RegularizationSide.Both)
        : base(regularizer, numWarmupSteps, numDelaySteps, sides)
    {
    }

    /// <summary>
    /// Creates the scheduler with the warmup given as a fraction of training, as sentence-transformers'
    /// <c>SpladeRegularizerWeightSchedulerCallback</c> does (its default fraction is 1/3).
    /// </summary>
    /// <param name="regularizer">The regularizer whose weights the scheduler drives.</param>
    /// <param name="numTrainingSteps">The total number of training steps.</param>
    /// <param name="warmupRatio">The fraction of the training steps spent warming up, in [0, 1].</param>
    /// <param name="sides">Which weights to drive.</param>
    /// <returns>A scheduler warming up over <c>⌊numTrainingSteps · warmupRatio⌋</c> steps.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static ConstantSchedulerWithQuadraticWarmup FromWarmupRatio(
        RegularizationLossFunction regularizer, long numTrainingSteps, double warmupRatio = 1.0 / 3, RegularizationSide sides = RegularizationSide.Both)
        => new(regularizer, WarmupStepsFromRatio(numTrainingSteps, warmupRatio), sides: sides);

    /// <inheritdoc/>
    public override double ValueAt(long currentStep) => WarmupProgress(currentStep) is double progress ? progress * progress : 1.0;
}
