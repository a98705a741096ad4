namespace LightningIr.Regularization;

/// <summary>
/// Sets a regularizer's weights so that training reaches a stated sparsity: the mean number of non-zero entries per
/// query or document vector, or the expected multiplications per query–document pair. Call <see cref="Update(BiEncoderOutput)"/>
/// once per optimizer step, before the loss of the same batch; the weights it sets are the ones that loss reads. From its
/// first update on, the budget owns the weights it sets: the regularizer refuses anyone else's write to them.
/// </summary>
/// <remarks>
/// No Lightning IR counterpart: Lightning IR, SPLADE and sentence-transformers set λ by hand. Each weight is a Lagrange
/// multiplier of its sparsity constraint, moved by dual ascent on its logarithm while the model is slower than the speed
/// the budget asks of it, and braked by the model's velocity (the derivative term of a PID controller), as in CoFi pruning
/// (Xia et al., ACL 2022), Gallego-Posada et al., "Controlled Sparsity via Constrained Optimization" (NeurIPS 2022) and
/// Stooke et al., "Responsive Safety in Reinforcement Learning by PID Lagrangian Methods" (ICML 2020). The guide
/// <c>docs/sparsity-budgets.md</c> states the law, its measured hit rate and what each <see cref="Status"/> means.
/// </remarks>
/// <example>
/// <code>
/// var flops = new FlopsRegularization(queryWeight: 1e-3, docWeight: 1e-3);
/// var budget = new SparsityBudget(flops, queryL0: 30, docL0: 200);
/// // each step, inside its dispose scope:
/// budget.Update(output);
/// var loss = ranking + flops.ComputeLoss(output);
/// // budget.Status says whether the targets are tracked, still on their way, unreachable or collapsed
/// </code>
/// </example>
public sealed class SparsityBudget
{
    /// <summary>What the measurement of a budget records of its targets, for <see cref="Update(SparsityMeasurement)"/> to refuse another budget's.</summary>
    private readonly string targetsKey;
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
    /// 0 (default): the budget steers to the target itself, asking the model for a speed that shrinks as it gets close.
    /// Otherwise the level it steers to moves geometrically from the first measurement to the target over this many updates.
    /// </param>
    /// <param name="updateRate">The integrator's rate: the change of ln λ per update per unit of ln(measured / target), the error clipped to ±ln 2, while the model is slower than asked; finite and &gt; 0, 0.2 when <see langword="null"/>.</param>
    /// <param name="minWeight">The smallest weight the budget sets: finite and &gt; 0, 1e-10 when <see langword="null"/>.</param>
    /// <param name="maxWeight">The largest weight the budget sets: finite and ≥ <paramref name="minWeight"/>, 1e10 when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is ≤ 0, NaN or infinite, or an option is out of its range.</exception>
    /// <exception cref="ArgumentException">No target is given, or L0 targets and a FLOPS target are given together.</exception>
    public SparsityBudget(
        RegularizationLossFunction regularizer,
        double? queryL0 = null,
        double? docL0 = null,
        double? flops = null,
        long warmupSteps = 0,
        double? updateRate = null,
        double? minWeight = null,
        double? maxWeight = null)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        CheckTarget(queryL0, nameof(queryL0));
        CheckTarget(docL0, nameof(docL0));
        CheckTarget(flops, nameof(flops));
        if (queryL0 is null && docL0 is null && flops is null)
        {
            throw new ArgumentException("Give a sparsity target: queryL0, docL0 (either or both) or flops.", nameof(regularizer));
        }

        if (flops is not null && (queryL0 is not null || docL0 is not null))
        {
            throw new ArgumentException("Give either L0 targets or a FLOPS target: a FLOPS target moves both weights, so it cannot be combined with per-side targets.", nameof(flops));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        var rate = updateRate ?? SparsityControl.DefaultRate;
        if (!(double.IsFinite(rate) && rate > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(updateRate), rate, "The update rate must be a finite number > 0.");
        }

        var min = minWeight ?? 1e-10;
        if (!(double.IsFinite(min) && min > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minWeight), min, "The smallest weight must be a finite number > 0 (a weight of 0 could never grow again).");
        }

        var max = maxWeight ?? 1e10;
        if (!(double.IsFinite(max) && max >= min))
        {
            throw new ArgumentOutOfRangeException(nameof(maxWeight), max, $"The largest weight must be finite and at least the smallest ({min}).");
        }

        Regularizer = regularizer;
        Settings = new SparsityBudgetSettings(queryL0, docL0, flops, warmupSteps, rate, min, max);
        targetsKey = FormattableString.Invariant($"queryL0 {Describe(queryL0)}, docL0 {Describe(docL0)}, flops {Describe(flops)}");
        state = new SparsityBudgetState(
            0, regularizer.QueryWeight, regularizer.DocWeight, null, null, null, Settings, LawVersion: SparsityBudgetState.CurrentLawVersion);
    }

    /// <summary>The regularizer whose weights the budget sets.</summary>
    public RegularizationLossFunction Regularizer { get; }

    /// <summary>The targets and options, as <see cref="State"/> records them.</summary>
    public SparsityBudgetSettings Settings { get; }

    /// <summary>The stated query L0 target, or <see langword="null"/>.</summary>
    public double? QueryL0 => Settings.QueryL0;

    /// <summary>The stated document L0 target, or <see langword="null"/>.</summary>
    public double? DocL0 => Settings.DocL0;

    /// <summary>The stated FLOPS target, or <see langword="null"/>.</summary>
    public double? Flops => Settings.Flops;

    /// <summary>Updates over which an explicit warmup moves the targets from the first measurement to the stated values; 0 to steer to the targets from the first update.</summary>
    public long WarmupSteps => Settings.WarmupSteps;

    /// <summary>The integrator's rate: the change of ln λ per update per unit of ln(measured / target) while the model is slower than asked.</summary>
    public double UpdateRate => Settings.UpdateRate;

    /// <summary>The smallest weight the budget sets.</summary>
    public double MinWeight => Settings.MinWeight;

    /// <summary>The largest weight the budget sets.</summary>
    public double MaxWeight => Settings.MaxWeight;

    /// <summary>Which of the regularizer's weights the budget sets.</summary>
    public RegularizationSide Sides => Flops is not null ? RegularizationSide.Both
        : (QueryL0 is null ? 0 : RegularizationSide.Query) | (DocL0 is null ? 0 : RegularizationSide.Doc);

    /// <summary>The number of updates so far.</summary>
    public long Step => state.Step;

    /// <summary>The worse of the targets' statuses (<see cref="SparsityBudgetStatus"/> is ordered from best to worst); <see cref="SparsityBudgetStatus.Warmup"/> before the first update.</summary>
    public SparsityBudgetStatus Status => (SparsityBudgetStatus)Math.Max((int)(QueryStatus ?? 0), (int)(DocStatus ?? 0));

    /// <summary>The status of the target that sets λq (the query L0 or the FLOPS target), or <see langword="null"/> when λq is not targeted.</summary>
    public SparsityBudgetStatus? QueryStatus => Flops is not null ? StatusOf(state.Flops) : QueryL0 is null ? null : StatusOf(state.QueryL0);

    /// <summary>The status of the target that sets λd (the document L0 or the FLOPS target), or <see langword="null"/> when λd is not targeted.</summary>
    public SparsityBudgetStatus? DocStatus => Flops is not null ? StatusOf(state.Flops) : DocL0 is null ? null : StatusOf(state.DocL0);

    /// <summary>The query L0 of the last update's batch, or <see langword="null"/> before the first update, when it is not targeted or when the batch had no query vectors.</summary>
    public double? MeasuredQueryL0 { get; private set; }

    /// <summary>The document L0 of the last update's batch, or <see langword="null"/> before the first update, when it is not targeted or when the batch had no document vectors.</summary>
    public double? MeasuredDocL0 { get; private set; }

    /// <summary>The FLOPS figure of the last update's batch, or <see langword="null"/> before the first update, when it is not targeted or when a side had no vectors.</summary>
    public double? MeasuredFlops { get; private set; }

    /// <summary>The query L0 level the budget steered to at the last update: <see cref="QueryL0"/>, or an explicit warmup's level on its way there.</summary>
    public double? CurrentQueryL0Target => state.QueryL0?.Reference ?? QueryL0;

    /// <summary>The document L0 level the budget steered to at the last update.</summary>
    public double? CurrentDocL0Target => state.DocL0?.Reference ?? DocL0;

    /// <summary>The FLOPS level the budget steered to at the last update.</summary>
    public double? CurrentFlopsTarget => state.Flops?.Reference ?? Flops;

    /// <summary>The controller's state, for a checkpoint: restoring it with <see cref="LoadState"/> continues the run bit for bit.</summary>
    public SparsityBudgetState State => state;

    /// <summary>
    /// Restores a state read from <see cref="State"/>, and the weights it holds for the sides this budget steers onto the
    /// regularizer, whose owner of those sides the budget then is.
    /// </summary>
    /// <param name="value">The state to continue from.</param>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The state was saved by a budget with other targets or options (the message names them) or by another version of the
    /// control law, or it is not one a budget can be in: a negative step, a weight that is not finite and ≥ 0, a target's
    /// controller that does not fit, or document fractions outside [0, 1] or without a FLOPS target.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another budget steers a weight this budget sets.</exception>
    public void LoadState(SparsityBudgetState value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(value.Settings, nameof(value));
        if (value.LawVersion != SparsityBudgetState.CurrentLawVersion)
        {
            throw new ArgumentException(
                $"The state was saved by control law version {value.LawVersion}{(value.LawVersion == 0 ? " (a budget from before the law was versioned)" : string.Empty)}, but this budget runs version {SparsityBudgetState.CurrentLawVersion}, whose controllers keep other quantities: it cannot continue that run. Start a new budget from the saved weights (set them on the regularizer before the budget's first update).",
                nameof(value));
        }

        var differences = Differences(value.Settings, Settings);
        if (differences.Count > 0)
        {
            throw new ArgumentException(
                $"The state was saved by a budget with other targets or options ({string.Join("; ", differences)}): load it into a budget created with the same ones.",
                nameof(value));
        }

        // A copy of the fractions, checked and then kept, so that the caller's list, changed later, does not change the budget.
        var fractions = value.PreviousDocFractions?.ToArray();
        if (value.Step < 0 || !IsWeight(value.QueryWeight) || !IsWeight(value.DocWeight)
            || !Fits(value.QueryL0, QueryL0, value.Step) || !Fits(value.DocL0, DocL0, value.Step) || !Fits(value.Flops, Flops, value.Step)
            || (fractions is not null && (Flops is null || !Array.TrueForAll(fractions, f => f >= 0 && f <= 1))))
        {
            throw new ArgumentException(
                $"The state {value} is not one a budget can be in: the step must be ≥ 0, the weights finite and ≥ 0, and a controller only for a stated target, with finite positive levels, a finite velocity, a rise within ±ln 80 and anchor and held-since steps within range, and document fractions in [0, 1] only for a FLOPS target.",
                nameof(value));
        }

        Regularizer.Steer(this);
        Regularizer.SetSteeredWeights(Sides.HasFlag(RegularizationSide.Query) ? value.QueryWeight : Regularizer.QueryWeight, Sides.HasFlag(RegularizationSide.Doc) ? value.DocWeight : Regularizer.DocWeight);
        state = value with { PreviousDocFractions = fractions is null ? null : Array.AsReadOnly(fractions) };
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
        Guard.CheckFloat64(sides.Query.device, "A sparsity budget's counts", "measure a CPU copy of the embeddings (the budget reads them without gradient)", nameof(output));
        var length = sides.Query.shape[^1];
        if (sides.Doc.shape[^1] != length)
        {
            throw new ArgumentException(
                $"Query and document vectors must have the same length for a sparsity budget, but have {length} and {sides.Doc.shape[^1]}.", nameof(output));
        }

        var values = SparsityCounts.Pack(sides.Query, sides.QueryMask, sides.Doc, sides.DocMask, QueryL0 is not null, DocL0 is not null, Flops is not null);
        return new SparsityMeasurement(values, length, targetsKey).MoveToOuterDisposeScope();
    }

    /// <summary>Measures this step's batch and moves the targeted weights towards their targets: <see cref="Measure"/>, then <see cref="Update(SparsityMeasurement)"/>.</summary>
    /// <param name="output">The bi-encoder output of the whole batch.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// As for <see cref="Measure"/>, or the embeddings hold NaN or infinite entries, or a loaded state's document
    /// fractions are of vectors of another length.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is larger than the vectors' length.</exception>
    /// <exception cref="InvalidOperationException">Another budget steers a weight this budget sets.</exception>
    public void Update(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        Update(Measure(output));
    }

    /// <summary>
    /// Moves the targeted weights towards their targets from a whole batch's measurement (summed over its parts, or
    /// all-reduced: every process then sets the same weights). Reads the counts to the host, once. A refused measurement
    /// changes nothing; a side without vectors in this batch (all masked out) leaves its weight and controller as they are.
    /// A FLOPS target measures this batch's queries against the previous update's documents (its own at the first update),
    /// which are independent of them: a batch's positives hold their own queries' terms.
    /// </summary>
    /// <param name="total">The measurement of the whole batch.</param>
    /// <exception cref="ArgumentNullException"><paramref name="total"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The measurement was made by a budget with other targets, or of NaN or infinite embeddings, or a loaded state's
    /// document fractions are of vectors of another length.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is larger than the vectors' length.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    /// <exception cref="InvalidOperationException">Another budget steers a weight this budget sets.</exception>
    public void Update(SparsityMeasurement total)
    {
        ArgumentNullException.ThrowIfNull(total);
        total.ThrowIfDisposed();
        if (total.Targets != targetsKey)
        {
            throw new ArgumentException(
                $"The measurement was made by a budget with other targets ({total.Targets}), but this budget has {targetsKey}: measure with this budget, or one with the same targets.",
                nameof(total));
        }

        CheckTargetFits(QueryL0, total.VectorLength, nameof(QueryL0));
        CheckTargetFits(DocL0, total.VectorLength, nameof(DocL0));
        CheckTargetFits(Flops, total.VectorLength, nameof(Flops));
        if (state.PreviousDocFractions is { } previous && previous.Count != total.VectorLength)
        {
            throw new ArgumentException(
                $"The budget's state holds the previous documents' fractions of {previous.Count} terms, but the measured vectors have {total.VectorLength}: the state was saved for another vocabulary. Load a state saved with this model's vectors, or one without the fractions.",
                nameof(total));
        }

        double[] counts;
        using (NewDisposeScope())
        {
            counts = total.Values.cpu().data<double>().ToArray();
        }

        if (!double.IsFinite(counts[SparsityCounts.Witness]))
        {
            throw new ArgumentException("The measured embeddings hold NaN or infinite entries: a budget cannot steer by them. Check the model's outputs (a learning rate too large, a log of 0).", nameof(total));
        }

        var queryVectors = counts[0] > 0;
        var docVectors = counts[2] > 0;
        var measuredQuery = QueryL0 is not null && queryVectors ? counts[1] / counts[0] : (double?)null;
        var measuredDoc = DocL0 is not null && docVectors ? counts[3] / counts[2] : (double?)null;
        var docFractions = Flops is not null && docVectors ? DocFractions(counts, total.VectorLength) : state.PreviousDocFractions;
        // A query's terms are in its own positive: measured against this batch's documents the figure is too high, so the
        // queries meet the previous batch's documents, an independent sample (this batch's own at the first update).
        var against = state.PreviousDocFractions ?? docFractions;
        var measuredFlops = Flops is not null && queryVectors && against is not null ? FlopsFigure(counts, against) : (double?)null;
        Regularizer.Steer(this);
        var step = state.Step + 1;
        // The weights start from the regularizer's at the first update, so a budget can take over after a schedule; later
        // the regularizer holds the budget's own (it refuses anyone else's write).
        var query = Regularizer.QueryWeight;
        var doc = Regularizer.DocWeight;
        var flopsState = Control(state.Flops, measuredFlops, Flops, RegularizationSide.Both, step, ref query, ref doc);
        var queryState = Control(state.QueryL0, measuredQuery, QueryL0, RegularizationSide.Query, step, ref query, ref doc);
        var docState = Control(state.DocL0, measuredDoc, DocL0, RegularizationSide.Doc, step, ref query, ref doc);

        Regularizer.SetSteeredWeights(query, doc);
        state = new SparsityBudgetState(step, query, doc, queryState, docState, flopsState, Settings, docFractions, SparsityBudgetState.CurrentLawVersion);
        MeasuredQueryL0 = measuredQuery;
        MeasuredDocL0 = measuredDoc;
        MeasuredFlops = measuredFlops;
    }


    /// <summary>
    /// One target's update (<see cref="SparsityControl"/>): moves the weights of the sides it sets (one side for an L0
    /// target, both for FLOPS) by the same factor, within [<see cref="MinWeight"/>, <see cref="MaxWeight"/>]. Without a
    /// measurement, everything stays.
    /// </summary>
    private SparsityTargetState? Control(SparsityTargetState? previous, double? measured, double? target, RegularizationSide sides, long step, ref double query, ref double doc)
    {
        if (target is not double stated || measured is not double now)
        {
            return previous;
        }

        var move = SparsityControl.Advance(previous, now, stated, step, WarmupSteps, UpdateRate);
        var setsQuery = sides.HasFlag(RegularizationSide.Query);
        var setsDoc = sides.HasFlag(RegularizationSide.Doc);
        if (setsQuery)
        {
            query = Bound(query * Math.Exp(move.LogChange));
        }

        if (setsDoc)
        {
            doc = Bound(doc * Math.Exp(move.LogChange));
        }

        var status = SparsityControl.Classify(
            move.State, stated, isL0: sides != RegularizationSide.Both, step,
            atMinWeight: (!setsQuery || query <= MinWeight) && (!setsDoc || doc <= MinWeight),
            atMaxWeight: (setsQuery && query >= MaxWeight) || (setsDoc && doc >= MaxWeight));
        return move.State with { Status = status };
    }

    private double Bound(double weight) => Math.Clamp(weight, MinWeight, MaxWeight);

    /// <summary>Σⱼ pⱼ(q)·pⱼ(d) from this batch's per-term query counts and the documents' fractions.</summary>
    private static double FlopsFigure(double[] counts, IReadOnlyList<double> docFractions)
    {
        var sum = 0.0;
        for (var j = 0; j < docFractions.Count; j++)
        {
            sum += counts[SparsityCounts.Length + j] / counts[0] * docFractions[j];
        }

        return sum;
    }

    /// <summary>pⱼ(d): the fraction of this batch's document vectors in which term j is non-zero.</summary>
    private static System.Collections.ObjectModel.ReadOnlyCollection<double> DocFractions(double[] counts, long length)
    {
        var fractions = new double[length];
        for (var j = 0; j < length; j++)
        {
            fractions[j] = counts[SparsityCounts.Length + length + j] / counts[2];
        }

        return Array.AsReadOnly(fractions);
    }

    /// <summary>The budget as messages name it: its targets.</summary>
    /// <returns>For instance <c>SparsityBudget(queryL0 30, docL0 200, flops none)</c>.</returns>
    public override string ToString() => $"SparsityBudget({targetsKey})";

    /// <summary>A target as the messages name it: its shortest round-trip form (.NET's default), or "none".</summary>
    private static string Describe(double? target) => target?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    private static SparsityBudgetStatus StatusOf(SparsityTargetState? target) => target?.Status ?? SparsityBudgetStatus.Warmup;

    private static List<string> Differences(SparsityBudgetSettings saved, SparsityBudgetSettings own)
    {
        var differences = new List<string>();
        void Compare<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                differences.Add(FormattableString.Invariant($"{name} {a?.ToString() ?? "none"} in the state, {b?.ToString() ?? "none"} here"));
            }
        }

        Compare(nameof(QueryL0), saved.QueryL0, own.QueryL0);
        Compare(nameof(DocL0), saved.DocL0, own.DocL0);
        Compare(nameof(Flops), saved.Flops, own.Flops);
        Compare(nameof(WarmupSteps), saved.WarmupSteps, own.WarmupSteps);
        Compare(nameof(UpdateRate), saved.UpdateRate, own.UpdateRate);
        Compare(nameof(MinWeight), saved.MinWeight, own.MinWeight);
        Compare(nameof(MaxWeight), saved.MaxWeight, own.MaxWeight);
        return differences;
    }

    private static bool Fits(SparsityTargetState? target, double? stated, long step) => target is null
        || (stated is not null && IsWeight(target.Start) && IsLevel(target.Reference) && IsLevel(target.Smoothed) && IsLevel(target.Anchor)
            && target.AnchorStep >= 0 && target.AnchorStep <= step && target.HeldSince >= -1 && target.HeldSince <= step && Enum.IsDefined(target.Status)
            && double.IsFinite(target.Velocity) && SparsityControl.WithinWindup(target.Rise));

    private static void CheckTargetFits(double? target, long length, string name)
    {
        if (target > length)
        {
            throw new ArgumentOutOfRangeException(name, target, $"The {name} target {target} is larger than the vectors' length {length}: it can never be reached.");
        }
    }

    private static void CheckTarget(double? target, string paramName)
    {
        if (target is double value && !(double.IsFinite(value) && value > 0))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"A sparsity target must be a finite number > 0, but {paramName} was {value}.");
        }
    }

    private static bool IsWeight(double value) => double.IsFinite(value) && value >= 0;

    private static bool IsLevel(double value) => double.IsFinite(value) && value > 0;
}
