namespace LightningIr.Regularization;

/// <summary>
/// Changes a regularizer's <see cref="RegularizationLossFunction.QueryWeight"/> and
/// <see cref="RegularizationLossFunction.DocWeight"/> during training: each weight becomes
/// <c>base weight · <see cref="ValueAt"/>(step)</c>, the base weights being those the loss had when the
/// scheduler was created.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.schedulers.LambdaWarmupScheduler</c> with its <c>GenericScheduler</c>
/// callback; steps count from 1, as its <c>trainer.global_step + 1</c>. Warmup as in SPLADE (Formal et al., SIGIR 2021).
/// </remarks>
/// <example>
/// <code>
/// var flops = new FlopsRegularization(3e-4, 1e-4);
/// var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 50_000);
/// for (long step = 1; step &lt;= steps; step++)
/// {
///     schedule.Step(step);                 // λ = base λ · (step / 50 000)² during warmup
///     var loss = ranking + flops.ComputeLoss(output);
///     ...
/// }
/// schedule.Restore();
/// </code>
/// </example>
public abstract class RegularizationWeightScheduler
{
    /// <summary>Creates the scheduler and captures the loss's current weights as the base weights.</summary>
    /// <param name="regularizer">The regularizer whose weights the scheduler drives.</param>
    /// <param name="numWarmupSteps">Steps over which the value rises from 0 to 1, after the delay; 0 for none.</param>
    /// <param name="numDelaySteps">Steps at the start during which the value is 0.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <param name="sides">Which weights to drive: both (default), or one side for a per-side schedule.</param>
    /// <exception cref="ArgumentOutOfRangeException">A step count is negative, or <paramref name="sides"/> names no side.</exception>
    protected RegularizationWeightScheduler(
        RegularizationLossFunction regularizer, long numWarmupSteps, long numDelaySteps = 0, RegularizationSide sides = RegularizationSide.Both)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        ArgumentOutOfRangeException.ThrowIfNegative(numWarmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(numDelaySteps);
        if (sides is not (RegularizationSide.Query or RegularizationSide.Doc or RegularizationSide.Both))
        {
            throw new ArgumentOutOfRangeException(nameof(sides), sides, "Schedule the query weight, the document weight or both.");
        }

        Regularizer = regularizer;
        NumWarmupSteps = numWarmupSteps;
        NumDelaySteps = numDelaySteps;
        Sides = sides;
        BaseQueryWeight = regularizer.QueryWeight;
        BaseDocWeight = regularizer.DocWeight;
    }

    /// <summary>The regularizer whose weights are scheduled.</summary>
    public RegularizationLossFunction Regularizer { get; }

    /// <summary>Which of the regularizer's weights the scheduler drives: one side or both.</summary>
    public RegularizationSide Sides { get; }

    /// <summary>Steps over which the value rises from 0 to 1, after the delay.</summary>
    public long NumWarmupSteps { get; }

    /// <summary>Steps at the start during which the value is 0.</summary>
    public long NumDelaySteps { get; }

    /// <summary>The query weight the loss had when the scheduler was created.</summary>
    public double BaseQueryWeight { get; }

    /// <summary>The document weight the loss had when the scheduler was created.</summary>
    public double BaseDocWeight { get; }

    /// <summary>The factor (between 0 and 1) applied to the base weights at <paramref name="currentStep"/>.</summary>
    /// <param name="currentStep">The training step, counting from 1 at the first batch.</param>
    /// <returns>The factor for that step.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="currentStep"/> is negative.</exception>
    public abstract double ValueAt(long currentStep);

    /// <summary>Sets the scheduled weights of <see cref="Regularizer"/> to their base value times <see cref="ValueAt"/>(<paramref name="step"/>).</summary>
    /// <param name="step">The training step, counting from 1 at the first batch.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">A <see cref="SparsityBudget"/> steers a scheduled weight; nothing is written.</exception>
    public void Step(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Apply(ValueAt(step));
    }

    /// <summary>Puts the base values of the scheduled weights back on <see cref="Regularizer"/>, as Lightning IR does when training ends.</summary>
    /// <exception cref="InvalidOperationException">A <see cref="SparsityBudget"/> steers a scheduled weight; nothing is written.</exception>
    public void Restore() => Apply(1.0);

    private void Apply(double value)
    {
        Regularizer.ThrowIfSteered(Sides);
        if (Sides.HasFlag(RegularizationSide.Query))
        {
            Regularizer.QueryWeight = BaseQueryWeight * value;
        }

        if (Sides.HasFlag(RegularizationSide.Doc))
        {
            Regularizer.DocWeight = BaseDocWeight * value;
        }
    }

    /// <summary>
    /// The warmup fraction at <paramref name="currentStep"/>: <see langword="null"/> after the warmup, else
    /// 0 during the delay and <c>(step − delay) / warmup</c> during the warmup.
    /// </summary>
    /// <param name="currentStep">The training step.</param>
    /// <returns>The linear warmup progress, or <see langword="null"/> once the warmup is over.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="currentStep"/> is negative.</exception>
    protected double? WarmupProgress(long currentStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(currentStep);
        if (currentStep < NumDelaySteps)
        {
            return 0.0;
        }

        if (currentStep < NumDelaySteps + NumWarmupSteps)
        {
            return (double)(currentStep - NumDelaySteps) / NumWarmupSteps;
        }

        return null;
    }

    /// <summary>Warmup steps as a fraction of the training steps, as sentence-transformers' scheduler callback takes them.</summary>
    /// <param name="numTrainingSteps">The total number of training steps (≥ 1).</param>
    /// <param name="warmupRatio">The fraction of them spent warming up, in [0, 1].</param>
    /// <returns><c>⌊numTrainingSteps · warmupRatio⌋</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    protected static long WarmupStepsFromRatio(long numTrainingSteps, double warmupRatio)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numTrainingSteps);
        if (!(warmupRatio >= 0 && warmupRatio <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(warmupRatio), warmupRatio, "The warmup ratio must be between 0 and 1.");
        }

        return (long)Math.Floor(numTrainingSteps * warmupRatio);
    }
}
