namespace LightningIr.Regularization;

/// <summary>
/// 0 during the delay, a linear warmup to 1, then a linear decay that reaches <see cref="FinalValue"/> at
/// <see cref="NumTrainingSteps"/> and stays there.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.schedulers.LinearSchedulerWithLinearWarmup</c>: after the
/// warmup the value is <c>max(final, 1 − (1 − final) / (training − delay − warmup) · (step − delay − warmup))</c>.
/// </remarks>
/// <example>
/// <code>
/// var schedule = new LinearSchedulerWithLinearWarmup(l1, numWarmupSteps: 1_000, numTrainingSteps: 10_000, finalValue: 0.1);
/// </code>
/// </example>
public class LinearSchedulerWithLinearWarmup : RegularizationWeightScheduler
{
    /// <summary>Creates the scheduler; it captures the loss's current weights as the base weights.</summary>
    /// <param name="regularizer">The regularizer whose weights the scheduler drives.</param>
    /// <param name="numWarmupSteps">Steps over which the value rises linearly from 0 to 1, after the delay.</param>
    /// <param name="numTrainingSteps">The step at which the decay reaches <paramref name="finalValue"/>; more than delay + warmup.</param>
    /// <param name="finalValue">The value the decay ends at, in [0, 1].</param>
    /// <param name="numDelaySteps">Steps at the start during which the value is 0.</param>
    /// <param name="sides">Which weights to drive: both (default), or one side for a per-side schedule.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A step count is negative, <paramref name="numTrainingSteps"/> is not more than delay + warmup, or
    /// <paramref name="finalValue"/> is outside [0, 1].
    /// </exception>
    public LinearSchedulerWithLinearWarmup(
        RegularizationLossFunction regularizer,
        long numWarmupSteps,
        long numTrainingSteps,
        double finalValue = 0.0,
        long numDelaySteps = 0,
        RegularizationSide sides = RegularizationSide.Both)
        : base(regularizer, numWarmupSteps, numDelaySteps, sides)
    {
        if (numTrainingSteps <= numDelaySteps + numWarmupSteps)
        {
            throw new ArgumentOutOfRangeException(
                nameof(numTrainingSteps),
                numTrainingSteps,
                $"Training must last longer than the delay plus the warmup ({numDelaySteps} + {numWarmupSteps} steps) to leave steps for the decay.");
        }

        if (!(finalValue >= 0 && finalValue <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(finalValue), finalValue, "The final value must be between 0 and 1.");
        }

        NumTrainingSteps = numTrainingSteps;
        FinalValue = finalValue;
    }

    /// <summary>Creates the scheduler with the warmup given as a fraction of training, as sentence-transformers takes it.</summary>
    /// <param name="regularizer">The regularizer whose weights the scheduler drives.</param>
    /// <param name="numTrainingSteps">The total number of training steps, at which the decay reaches <paramref name="finalValue"/>.</param>
    /// <param name="warmupRatio">The fraction of the training steps spent warming up, in [0, 1).</param>
    /// <param name="finalValue">The value the decay ends at, in [0, 1].</param>
    /// <param name="sides">Which weights to drive.</param>
    /// <returns>A scheduler warming up over <c>⌊numTrainingSteps · warmupRatio⌋</c> steps, then decaying.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range, or the warmup leaves no step for the decay.</exception>
    public static LinearSchedulerWithLinearWarmup FromWarmupRatio(
        RegularizationLossFunction regularizer,
        long numTrainingSteps,
        double warmupRatio = 1.0 / 3,
        double finalValue = 0.0,
        RegularizationSide sides = RegularizationSide.Both)
        => new(regularizer, WarmupStepsFromRatio(numTrainingSteps, warmupRatio), numTrainingSteps, finalValue, sides: sides);

    /// <summary>The step at which the decay reaches <see cref="FinalValue"/>.</summary>
    public long NumTrainingSteps { get; }

    /// <summary>The value the decay ends at and never goes below.</summary>
    public double FinalValue { get; }

    /// <inheritdoc/>
    public override double ValueAt(long currentStep)
    {
        if (WarmupProgress(currentStep) is double progress)
        {
            return progress;
        }

        var decayStep = currentStep - NumDelaySteps - NumWarmupSteps;
        var decaySteps = NumTrainingSteps - NumDelaySteps - NumWarmupSteps;
        var slope = (1 - FinalValue) / decaySteps;
        return Math.Max(FinalValue, 1 - (slope * decayStep));
    }
}
