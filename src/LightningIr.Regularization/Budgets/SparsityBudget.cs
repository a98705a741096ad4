namespace LightningIr.Regularization;

/// <summary>
/// Sets a regularizer's weights so that training reaches a stated sparsity: the mean number of non-zero entries per
/// query or document vector, or the expected multiplications per query–document pair. Call <see cref="Update(BiEncoderOutput)"/>
/// once per optimizer step; the weights it sets are the ones the next <c>ComputeLoss</c> reads.
/// </summary>
/// <remarks>
/// No Lightning IR counterpart: Lightning IR, SPLADE and sentence-transformers set λ by hand. Each weight is a Lagrange
/// multiplier of its sparsity constraint, updated by dual ascent on its logarithm towards the target (with a proportional
/// term that damps the overshoot of a lagging model), as in CoFi pruning
/// (Xia et al., ACL 2022), Wang et al. (EMNLP 2020) and Gallego-Posada et al., "Controlled Sparsity via Constrained
/// Optimization" (NeurIPS 2022). The guide <c>docs/sparsity-budgets.md</c> explains the update, its defaults and the
/// recommended recipe.
/// </remarks>
/// <example>
/// <code>
/// var flops = new FlopsRegularization(queryWeight: 1e-3, docWeight: 1e-3);
/// var budget = new SparsityBudget(flops, queryL0: 30, docL0: 200);
/// // each step, inside its dispose scope:
/// budget.Update(output);
/// var loss = ranking + flops.ComputeLoss(output);
/// </code>
/// </example>
public sealed class SparsityBudget
{
    /// <summary>The default <see cref="UpdateRate"/>.</summary>
    public const double DefaultUpdateRate = 0.05;

    /// <summary>
    /// How strongly the weights react to this step's error at once, beside the accumulated multiplier: the applied weight is the
    /// multiplier times (measured / target)^gain. It damps the overshoot that a lagging model would otherwise cause.
    /// </summary>
    public const double ProportionalGain = 2;

    /// <summary>The default <see cref="MinWeight"/>.</summary>
    public const double DefaultMinWeight = 1e-10;

    /// <summary>The default <see cref="MaxWeight"/>.</summary>
    public const double DefaultMaxWeight = 1e10;

    private SparsityBudgetState state;

    /// <summary>Creates the budget. Give at least one target: document and query L0 (either or both), or FLOPS.</summary>
    /// <param name="regularizer">The regularizer whose weights the budget sets: any <see cref="RegularizationLossFunction"/>.</param>
    /// <param name="queryL0">The mean number of non-zero entries per query vector to reach, as <see cref="SparsityMetrics.L0"/> counts them; <see langword="null"/> leaves λq alone.</param>
    /// <param name="docL0">The mean number of non-zero entries per document vector to reach; <see langword="null"/> leaves λd alone.</param>
    /// <param name="flops">
    /// The expected number of multiplications per query–document pair to reach, Σⱼ pⱼ(q)·pⱼ(d) as <see cref="SparsityMetrics.Flops"/>
    /// computes it; both weights move by the same factor. Not together with L0 targets.
    /// </param>
    /// <param name="warmupSteps">
    /// Updates over which each target moves from the first measured value to the stated one, geometrically; 0 (default) aims at the
    /// stated target from the first update.
    /// </param>
    /// <param name="updateRate">How fast the weights move: the change of ln λ per unit of ln(measured / target); finite and &gt; 0.</param>
    /// <param name="minWeight">The smallest weight the budget sets: finite and &gt; 0.</param>
    /// <param name="maxWeight">The largest weight the budget sets: finite and ≥ <paramref name="minWeight"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is ≤ 0, NaN or infinite, or an option is out of its range.</exception>
    /// <exception cref="ArgumentException">No target is given, or L0 targets and a FLOPS target are given together.</exception>
    public SparsityBudget(
        RegularizationLossFunction regularizer,
        double? queryL0 = null,
        double? docL0 = null,
        double? flops = null,
        long warmupSteps = 0,
        double updateRate = DefaultUpdateRate,
        double minWeight = DefaultMinWeight,
        double maxWeight = DefaultMaxWeight)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        QueryL0 = CheckTarget(queryL0, nameof(queryL0));
        DocL0 = CheckTarget(docL0, nameof(docL0));
        Flops = CheckTarget(flops, nameof(flops));
        if (queryL0 is null && docL0 is null && flops is null)
        {
            throw new ArgumentException("Give a sparsity target: queryL0, docL0 (either or both) or flops.", nameof(regularizer));
        }

        if (flops is not null && (queryL0 is not null || docL0 is not null))
        {
            throw new ArgumentException("Give either L0 targets or a FLOPS target: a FLOPS target moves both weights, so it cannot be combined with per-side targets.", nameof(flops));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (!(double.IsFinite(updateRate) && updateRate > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(updateRate), updateRate, "The update rate must be a finite number > 0.");
        }

        if (!(double.IsFinite(minWeight) && minWeight > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minWeight), minWeight, "The smallest weight must be a finite number > 0 (a weight of 0 could never grow again).");
        }

        if (!(double.IsFinite(maxWeight) && maxWeight >= minWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(maxWeight), maxWeight, $"The largest weight must be finite and at least the smallest ({minWeight}).");
        }

        Regularizer = regularizer;
        WarmupSteps = warmupSteps;
        UpdateRate = updateRate;
        MinWeight = minWeight;
        MaxWeight = maxWeight;
        state = new SparsityBudgetState(0, regularizer.QueryWeight, regularizer.DocWeight, regularizer.QueryWeight, regularizer.DocWeight, null, null, null);
    }

    /// <summary>The regularizer whose weights the budget sets.</summary>
    public RegularizationLossFunction Regularizer { get; }

    /// <summary>The stated query L0 target, or <see langword="null"/>.</summary>
    public double? QueryL0 { get; }

    /// <summary>The stated document L0 target, or <see langword="null"/>.</summary>
    public double? DocL0 { get; }

    /// <summary>The stated FLOPS target, or <see langword="null"/>.</summary>
    public double? Flops { get; }

    /// <summary>Updates over which the targets warm up from the first measurement to the stated values.</summary>
    public long WarmupSteps { get; }

    /// <summary>The change of ln λ per unit of ln(measured / target) and update.</summary>
    public double UpdateRate { get; }

    /// <summary>The smallest weight the budget sets.</summary>
    public double MinWeight { get; }

    /// <summary>The largest weight the budget sets.</summary>
    public double MaxWeight { get; }

    /// <summary>Which of the regularizer's weights the budget sets.</summary>
    public RegularizationSide Sides => Flops is not null ? RegularizationSide.Both
        : (QueryL0 is null ? 0 : RegularizationSide.Query) | (DocL0 is null ? 0 : RegularizationSide.Doc);

    /// <summary>The number of updates so far.</summary>
    public long Step => state.Step;

    /// <summary>The query L0 of the last update's batch, or <see langword="null"/> before the first update or when it is not targeted.</summary>
    public double? MeasuredQueryL0 { get; private set; }

    /// <summary>The document L0 of the last update's batch, or <see langword="null"/> before the first update or when it is not targeted.</summary>
    public double? MeasuredDocL0 { get; private set; }

    /// <summary>The FLOPS figure of the last update's batch, or <see langword="null"/> before the first update or when it is not targeted.</summary>
    public double? MeasuredFlops { get; private set; }

    /// <summary>The query L0 target of the last update (during the warmup, on its way to <see cref="QueryL0"/>).</summary>
    public double? CurrentQueryL0Target => CurrentTarget(QueryL0, state.QueryStart, state.Step);

    /// <summary>The document L0 target of the last update (during the warmup, on its way to <see cref="DocL0"/>).</summary>
    public double? CurrentDocL0Target => CurrentTarget(DocL0, state.DocStart, state.Step);

    /// <summary>The FLOPS target of the last update (during the warmup, on its way to <see cref="Flops"/>).</summary>
    public double? CurrentFlopsTarget => CurrentTarget(Flops, state.FlopsStart, state.Step);

    /// <summary>The controller's state, for a checkpoint: restoring it with <see cref="LoadState"/> continues the run bit for bit.</summary>
    public SparsityBudgetState State => state;

    /// <summary>Restores a state read from <see cref="State"/>, and the weights it holds onto the regularizer.</summary>
    /// <param name="value">The state to continue from.</param>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">The state is not one a budget can be in: a negative step, or a weight or start value that is not finite and ≥ 0.</exception>
    public void LoadState(SparsityBudgetState value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Step < 0 || !IsWeight(value.QueryWeight) || !IsWeight(value.DocWeight)
            || !IsWeight(value.QueryMultiplier) || !IsWeight(value.DocMultiplier) || !IsStart(value.QueryStart) || !IsStart(value.DocStart) || !IsStart(value.FlopsStart))
        {
            throw new ArgumentException($"The state {value} is not one a budget can be in: the step must be ≥ 0 and the weights, multipliers and start values finite and ≥ 0.", nameof(value));
        }

        Regularizer.QueryWeight = value.QueryWeight;
        Regularizer.DocWeight = value.DocWeight;
        state = value;
        MeasuredQueryL0 = MeasuredDocL0 = MeasuredFlops = null;
    }

    /// <summary>
    /// Measures a batch, or part of one, without updating anything: for batches split into micro-batches or across processes,
    /// sum the parts' measurements (<see cref="SparsityMeasurement.Sum"/>) or all-reduce them
    /// (<see cref="SparsityMeasurement.AllReduce"/>), then call <see cref="Update(SparsityMeasurement)"/>. Reads the embeddings
    /// as the regularizer's loss does (<see cref="RegularizationLossFunction.ProcessEmbeddings"/>, scoring masks when
    /// <see cref="RegularizationLossFunction.UseScoringMask"/> is on), builds no graph and copies nothing to the host.
    /// </summary>
    /// <param name="output">The bi-encoder output of the batch or part.</param>
    /// <returns>The counts, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">As the regularizer's <c>ComputeLoss</c> refuses the output, or the two sides' vectors differ in length.</exception>
    public SparsityMeasurement Measure(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sides = Regularizer.ReadSides(output);
        var length = sides.Query.shape[^1];
        if (sides.Doc.shape[^1] != length)
        {
            throw new ArgumentException(
                $"Query and document vectors must have the same length for a sparsity budget, but have {length} and {sides.Doc.shape[^1]}.", nameof(output));
        }

        var columns = Flops is not null;
        var query = Count(sides.Query, sides.QueryMask, QueryL0 is not null || columns, columns);
        var doc = Count(sides.Doc, sides.DocMask, DocL0 is not null || columns, columns);
        var parts = new List<Tensor> { query.Vectors, query.NonZeros, doc.Vectors, doc.NonZeros };
        if (columns)
        {
            parts.Add(query.Columns!);
            parts.Add(doc.Columns!);
        }

        var values = cat(parts.Select(p => p.to(ScalarType.Float64).reshape(-1)).ToList());
        return new SparsityMeasurement(values, length).MoveToOuterDisposeScope();
    }

    /// <summary>Measures this step's batch and moves the targeted weights towards their targets: <see cref="Measure"/>, then <see cref="Update(SparsityMeasurement)"/>.</summary>
    /// <param name="output">The bi-encoder output of the whole batch.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Measure"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is larger than the vectors' length.</exception>
    public void Update(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        Update(Measure(output));
    }

    /// <summary>
    /// Moves the targeted weights towards their targets from a whole batch's measurement (summed over its parts, or
    /// all-reduced: every process then sets the same weights). Reads the counts to the host, once. A refused measurement
    /// changes nothing.
    /// </summary>
    /// <param name="total">The measurement of the whole batch.</param>
    /// <exception cref="ArgumentNullException"><paramref name="total"/> is null.</exception>
    /// <exception cref="ArgumentException">The measurement was made for other targets, or holds NaN, infinite or negative counts (for example from an all-reduce that did not sum).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is larger than the vectors' length.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    public void Update(SparsityMeasurement total)
    {
        ArgumentNullException.ThrowIfNull(total);
        total.ThrowIfDisposed();
        var expected = SparsityMeasurement.CountLength + (Flops is null ? 0 : 2 * total.VectorLength);
        if (total.Length != expected)
        {
            throw new ArgumentException($"The measurement holds {total.Length} counts, but this budget measures {expected}: measure with this budget.", nameof(total));
        }

        CheckTargetFits(QueryL0, total.VectorLength, nameof(QueryL0));
        CheckTargetFits(DocL0, total.VectorLength, nameof(DocL0));
        CheckTargetFits(Flops, total.VectorLength, nameof(Flops));
        double[] counts;
        using (NewDisposeScope())
        {
            counts = total.Values.cpu().data<double>().ToArray();
        }

        if (counts.Any(c => !double.IsFinite(c) || c < 0))
        {
            throw new ArgumentException("The measurement holds NaN, infinite or negative counts: was it all-reduced with a sum?", nameof(total));
        }

        var measuredQuery = QueryL0 is null ? (double?)null : counts[1] / Math.Max(counts[0], 1);
        var measuredDoc = DocL0 is null ? (double?)null : counts[3] / Math.Max(counts[2], 1);
        var measuredFlops = Flops is null ? (double?)null : FlopsFigure(counts, total.VectorLength);
        var step = state.Step + 1;
        var next = state with
        {
            Step = step,
            QueryStart = state.QueryStart ?? measuredQuery,
            DocStart = state.DocStart ?? measuredDoc,
            FlopsStart = state.FlopsStart ?? measuredFlops,
        };
        // The multipliers start from the regularizer's weights at the first update, so a budget can take over after a schedule.
        var query = (Multiplier: state.Step == 0 ? Regularizer.QueryWeight : state.QueryMultiplier, Applied: Regularizer.QueryWeight);
        var doc = (Multiplier: state.Step == 0 ? Regularizer.DocWeight : state.DocMultiplier, Applied: Regularizer.DocWeight);
        if (measuredFlops is double flopsNow)
        {
            var error = Error(flopsNow, CurrentTarget(Flops, next.FlopsStart, step)!.Value);
            query = Move(query.Multiplier, error);
            doc = Move(doc.Multiplier, error);
        }

        if (measuredQuery is double queryNow)
        {
            query = Move(query.Multiplier, Error(queryNow, CurrentTarget(QueryL0, next.QueryStart, step)!.Value));
        }

        if (measuredDoc is double docNow)
        {
            doc = Move(doc.Multiplier, Error(docNow, CurrentTarget(DocL0, next.DocStart, step)!.Value));
        }

        Regularizer.QueryWeight = query.Applied;
        Regularizer.DocWeight = doc.Applied;
        state = next with { QueryWeight = query.Applied, DocWeight = doc.Applied, QueryMultiplier = query.Multiplier, DocMultiplier = doc.Multiplier };
        MeasuredQueryL0 = measuredQuery;
        MeasuredDocL0 = measuredDoc;
        MeasuredFlops = measuredFlops;
    }

    /// <summary>ln(measured / target), the measurement floored at a hundredth of the target (an empty batch still counts as far below).</summary>
    private static double Error(double measured, double target) => Math.Log(Math.Max(measured, target / 100) / target);

    /// <summary>
    /// One step of the update: the multiplier by dual ascent on its logarithm, ln m += rate · error, and the applied weight
    /// m · exp(gain · error), both within the bounds.
    /// </summary>
    private (double Multiplier, double Applied) Move(double multiplier, double error)
    {
        var next = Bound(multiplier * Math.Exp(UpdateRate * error));
        return (next, Bound(next * Math.Exp(ProportionalGain * error)));
    }

    private double Bound(double weight) => Math.Clamp(weight, MinWeight, MaxWeight);

    /// <summary>The target at <paramref name="step"/>: geometric from the first measurement to the stated value over the warmup.</summary>
    private double? CurrentTarget(double? target, double? start, long step)
    {
        if (target is not double stated || start is not double first || step >= WarmupSteps)
        {
            return target;
        }

        var progress = (double)step / WarmupSteps;
        return Math.Exp(((1 - progress) * Math.Log(Math.Max(first, stated / 100))) + (progress * Math.Log(stated)));
    }

    /// <summary>Σⱼ pⱼ(q)·pⱼ(d) from the per-term counts after the four vector counts.</summary>
    private static double FlopsFigure(double[] counts, long length)
    {
        var queries = Math.Max(counts[0], 1);
        var docs = Math.Max(counts[2], 1);
        var sum = 0.0;
        for (var j = 0; j < length; j++)
        {
            sum += counts[SparsityMeasurement.CountLength + j] / queries * (counts[SparsityMeasurement.CountLength + length + j] / docs);
        }

        return sum;
    }

    /// <summary>
    /// One side's counts: vectors, their non-zero entries and (when asked) the per-term counts; zeros for a side not measured.
    /// The kernels are the fastest exact ones measured on the CPU (the benchmarks' README): a whole-tensor
    /// <c>count_nonzero</c>, and sums of the non-zero indicator in float32, exact for counts below 2²⁴ per vector or term.
    /// </summary>
    private static (Tensor Vectors, Tensor NonZeros, Tensor? Columns) Count(Tensor embeddings, Tensor? mask, bool measured, bool columns)
    {
        if (!measured)
        {
            var zero = zeros(1, ScalarType.Float64, embeddings.device);
            return (zero, zero, null);
        }

        var length = embeddings.shape[^1];
        var vectors = mask is null
            ? tensor((double)(embeddings.numel() / length), ScalarType.Float64, embeddings.device)
            : mask.sum().to(ScalarType.Float64);
        if (columns)
        {
            var active = mask is null ? embeddings.ne(0) : embeddings.ne(0).logical_and(mask.unsqueeze(-1));
            var columnCounts = active.reshape(-1, length).sum([0], type: ScalarType.Float32);
            return (vectors, columnCounts.sum(type: ScalarType.Float64), columnCounts);
        }

        var nonZeros = mask is null
            ? embeddings.count_nonzero()
            : embeddings.ne(0).sum([-1], type: ScalarType.Float32).mul(mask).sum(type: ScalarType.Float64);
        return (vectors, nonZeros, null);
    }

    private static void CheckTargetFits(double? target, long length, string name)
    {
        if (target > length)
        {
            throw new ArgumentOutOfRangeException(name, target, $"The {name} target {target} is larger than the vectors' length {length}: it can never be reached.");
        }
    }

    private static double? CheckTarget(double? target, string paramName)
    {
        if (target is double value && !(double.IsFinite(value) && value > 0))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"A sparsity target must be a finite number > 0, but {paramName} was {value}.");
        }

        return target;
    }

    private static bool IsWeight(double value) => double.IsFinite(value) && value >= 0;

    private static bool IsStart(double? value) => value is null || IsWeight(value.Value);
}
