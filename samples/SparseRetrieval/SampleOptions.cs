namespace SparseRetrieval;

/// <summary>How the regularizer treats a batch that is split into micro-batches.</summary>
public enum RegularizationSplit
{
    /// <summary>Each micro-batch adds its exact share of the whole batch's regularizer (LightningIr.Regularization's split-batch statistics).</summary>
    Exact,

    /// <summary>Each micro-batch regularizes itself and the results are averaged, as other frameworks do with gradient accumulation.</summary>
    PerPart,
}

/// <summary>How a sparsity budget is brought in during training.</summary>
public enum BudgetRecipe
{
    /// <summary>The budget aims at its target from the first step.</summary>
    Direct,

    /// <summary>The target itself warms up, from the unregularized density to the budget, over the warmup fraction of the steps.</summary>
    TargetWarmup,

    /// <summary>λ warms up quadratically (SPLADE's schedule) over the warmup fraction, then the budget takes over from that λ.</summary>
    WeightWarmup,
}

/// <summary>The settings of one sample run.</summary>
public sealed record SampleOptions(
    int Steps,
    double QueryWeight,
    double DocWeight,
    double WarmupRatio,
    int Seed,
    string Output,
    int EvaluateEvery,
    int BatchSize = SampleOptions.DefaultBatchSize,
    int? MicroBatch = null,
    RegularizationSplit Split = RegularizationSplit.Exact,
    string Device = "cpu",
    int HiddenSize = 48,
    double LearningRate = 5e-3,
    IReadOnlyList<double>? DocL0 = null,
    double? QueryL0 = null,
    IReadOnlyList<BudgetRecipe>? Recipes = null)
{
    /// <summary>The default number of queries per batch.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Whether each batch is processed in micro-batches (gradient accumulation).</summary>
    public bool Accumulates => MicroBatch is int micro && micro < BatchSize;

    /// <summary>Whether the regularized runs hold sparsity budgets instead of fixed weights.</summary>
    public bool Budgeted => DocL0 is { Count: > 0 } || QueryL0 is not null;

    /// <summary>The number of warmup steps of a schedule or a target.</summary>
    public long WarmupSteps => (long)Math.Floor(Steps * WarmupRatio);
}
