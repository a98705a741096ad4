namespace LightningIr.Regularization;

/// <summary>
/// Base of the embedding regularizers: owns the query and document weights, reads the embeddings
/// out of a <see cref="BiEncoderOutput"/> and combines the two sides, so that each loss only says
/// which penalty each side gets (<see cref="GetPenalty"/>).
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.base.RegularizationLossFunction</c>. The guide <c>docs/losses.md</c>
/// describes the memory and exception contracts, <c>docs/split-batches.md</c> the split-batch one.
/// </remarks>
public abstract class RegularizationLossFunction : EmbeddingLossFunction
{
    /// <summary>The default weight of each side, Lightning IR's default of 1e-4.</summary>
    public const double DefaultWeight = 1e-4;

    private double queryWeight;
    private double docWeight;

    /// <summary>Creates the regularizer with the given side weights (λ).</summary>
    /// <param name="queryWeight">λq, the weight of the query penalty: finite and ≥ 0.</param>
    /// <param name="docWeight">λd, the weight of the document penalty: finite and ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is NaN, infinite or negative.</exception>
    protected RegularizationLossFunction(double queryWeight = DefaultWeight, double docWeight = DefaultWeight)
    {
        this.queryWeight = Guard.CheckWeight(queryWeight, nameof(queryWeight));
        this.docWeight = Guard.CheckWeight(docWeight, nameof(docWeight));
    }

    /// <summary>
    /// λq: the factor of the query penalty. Finite and ≥ 0; a refused value leaves the old one. Once a
    /// <see cref="SparsityBudget"/> steers λq, only that budget sets it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    /// <exception cref="InvalidOperationException">A sparsity budget steers λq.</exception>
    public double QueryWeight
    {
        get => queryWeight;
        set
        {
            ThrowIfSteered(RegularizationSide.Query);
            queryWeight = Guard.CheckWeight(value, nameof(QueryWeight));
        }
    }

    /// <summary>
    /// λd: the factor of the document penalty. Finite and ≥ 0; a refused value leaves the old one. Once a
    /// <see cref="SparsityBudget"/> steers λd, only that budget sets it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    /// <exception cref="InvalidOperationException">A sparsity budget steers λd.</exception>
    public double DocWeight
    {
        get => docWeight;
        set
        {
            ThrowIfSteered(RegularizationSide.Doc);
            docWeight = Guard.CheckWeight(value, nameof(DocWeight));
        }
    }

    /// <summary>The budget that steers λq, once it has updated it, or <see langword="null"/>.</summary>
    internal SparsityBudget? QuerySteering { get; private set; }

    /// <summary>The budget that steers λd, once it has updated it, or <see langword="null"/>.</summary>
    internal SparsityBudget? DocSteering { get; private set; }

    /// <summary>Makes <paramref name="budget"/> the owner of the weights it sets; refuses it a side another budget steers.</summary>
    internal void Steer(SparsityBudget budget)
    {
        foreach (var side in EachSide)
        {
            if (budget.Sides.HasFlag(side) && Owner(side) is { } owner && !ReferenceEquals(owner, budget))
            {
                throw new InvalidOperationException(
                    $"This {GetType().Name}'s {WeightName(side)} is already steered by {owner}; {budget} cannot steer it too. Give each budget its own regularizer, or one budget both targets.");
            }
        }

        QuerySteering = budget.Sides.HasFlag(RegularizationSide.Query) ? budget : QuerySteering;
        DocSteering = budget.Sides.HasFlag(RegularizationSide.Doc) ? budget : DocSteering;
    }

    /// <summary>Sets the weights as their owning budget: the only writer of the sides it steers.</summary>
    internal void SetSteeredWeights(double query, double doc)
    {
        queryWeight = Guard.CheckWeight(query, nameof(QueryWeight));
        docWeight = Guard.CheckWeight(doc, nameof(DocWeight));
    }

    /// <summary>Refuses a write of the weights of <paramref name="sides"/> if a budget steers either, before anything is written.</summary>
    internal void ThrowIfSteered(RegularizationSide sides)
    {
        foreach (var side in EachSide)
        {
            if (sides.HasFlag(side) && Owner(side) is { } owner)
            {
                throw new InvalidOperationException(
                    $"{WeightName(side)} is steered by {owner}, which owns it since its first update: a schedule or a hand-set value would be overwritten at its next update. Set the targets instead, or stop updating the budget and use a regularizer of your own.");
            }
        }
    }

    private static readonly RegularizationSide[] EachSide = [RegularizationSide.Query, RegularizationSide.Doc];

    private SparsityBudget? Owner(RegularizationSide side) => side == RegularizationSide.Query ? QuerySteering : DocSteering;

    private static string WeightName(RegularizationSide side) => side == RegularizationSide.Query ? nameof(QueryWeight) : nameof(DocWeight);

    /// <summary>
    /// When <see langword="true"/>, padding vectors marked <see langword="false"/> in
    /// <see cref="BiEncoderEmbedding.ScoringMask"/> are left out of the penalty (an extension of this library).
    /// Off by default, as in Lightning IR, which ignores the mask. A side without a mask counts every vector.
    /// </summary>
    public bool UseScoringMask { get; set; }

    /// <summary>
    /// Reads the tensors to regularize out of the output: by default the query and document embeddings
    /// unchanged. Override it to select, pool or mask vectors; what it returns must satisfy the same checks.
    /// </summary>
    /// <param name="output">The bi-encoder output.</param>
    /// <returns>The query and document tensors, each shaped <c>[batch, ..., dim]</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">The query or document embeddings are missing.</exception>
    public virtual (Tensor Query, Tensor Doc) ProcessEmbeddings(BiEncoderOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var query = output.QueryEmbeddings?.Embeddings
            ?? throw new ArgumentException("Expected query embeddings in BiEncoderOutput, but QueryEmbeddings is null.", nameof(output));
        var doc = output.DocEmbeddings?.Embeddings
            ?? throw new ArgumentException("Expected document embeddings in BiEncoderOutput, but DocEmbeddings is null.", nameof(output));
        return (query, doc);
    }

    /// <summary>Computes <c>QueryWeight · penalty(queries) + DocWeight · penalty(documents)</c>.</summary>
    /// <param name="output">The bi-encoder output holding both sides' embeddings.</param>
    /// <returns>A 0-dimensional tensor in the caller's dispose scope that requires grad when the embeddings do.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// Embeddings are missing, not floating point, of rank &lt; 2, have an empty dimension, or the two sides
    /// are on different devices; or a scoring mask in use does not fit its embeddings.
    /// </exception>
    public sealed override Tensor ComputeLoss(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        return Compute(output, null, out _, out _).MoveToOuterDisposeScope();
    }

    /// <summary>Computes the loss of two embedding tensors, without wrapping them in a <see cref="BiEncoderOutput"/>.</summary>
    /// <param name="query">The query embeddings, <c>[batch, ..., dim]</c>.</param>
    /// <param name="doc">The document embeddings, <c>[batch, ..., dim]</c>.</param>
    /// <returns>A 0-dimensional tensor in the caller's dispose scope that requires grad when the embeddings do.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="ComputeLoss(BiEncoderOutput)"/>.</exception>
    public Tensor ComputeLoss(Tensor query, Tensor doc)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(doc);
        return ComputeLoss(new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc)));
    }

    /// <summary>
    /// Computes the loss and its two weighted halves, for logging λq·penalty(queries) and λd·penalty(documents) separately.
    /// </summary>
    /// <param name="output">The bi-encoder output holding both sides' embeddings.</param>
    /// <returns>The weighted query and document penalties and their sum, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="ComputeLoss(BiEncoderOutput)"/>.</exception>
    public RegularizationLossComponents ComputeLossComponents(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        var total = Compute(output, null, out var query, out var doc);
        return new RegularizationLossComponents(
            query.MoveToOuterDisposeScope(), doc.MoveToOuterDisposeScope(), total.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Collects the additive statistics of a batch or of part of one, for exact regularization of a split batch
    /// (gradient accumulation, cached embeddings, data-parallel processes). Goes through <see cref="ProcessEmbeddings"/>,
    /// <see cref="UseScoringMask"/> and the loss's settings as <see cref="ComputeLoss(BiEncoderOutput)"/> does, builds no
    /// autograd graph and copies nothing to the host. The statistics are float64 (within the part, ATen reduces float32
    /// and the half types in float32).
    /// </summary>
    /// <param name="output">The bi-encoder output of one part of the batch.</param>
    /// <returns>The part's statistics, in the caller's dispose scope: sum them over the parts (<see cref="RegularizationStatistics.Sum"/>) or all-reduce them (<see cref="RegularizationStatistics.AllReduce"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="ComputeLoss(BiEncoderOutput)"/>.</exception>
    /// <exception cref="NotSupportedException">A side's penalty (<see cref="GetPenalty"/>) is not a <see cref="SplitBatchPenalty"/>.</exception>
    public RegularizationStatistics CollectStatistics(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sides = Prepare(output, splitBatch: true);
        Guard.CheckFloat64(sides.Query.device, "Split-batch statistics", "compute each whole batch's loss with ComputeLoss, or split the batch on the CPU or a CUDA device", nameof(output));
        var query = ((SplitBatchPenalty)sides.QueryPenalty).CollectStatistics(sides.Query, sides.QueryMask);
        var doc = ((SplitBatchPenalty)sides.DocPenalty).CollectStatistics(sides.Doc, sides.DocMask);
        return RegularizationStatistics.Create(Layout(sides), query, doc, sides.Query.shape[0], sides.Doc.shape[0]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Computes this part's share of the loss of a whole batch that was split into parts. The shares of all parts add up
    /// to <see cref="ComputeLoss(BiEncoderOutput)"/> of the whole batch, and the gradient each share sends into its part's
    /// embeddings equals the gradient of the whole batch's loss with respect to them.
    /// </summary>
    /// <param name="part">The bi-encoder output of this part.</param>
    /// <param name="total">The statistics of the whole batch, this part included, collected by this loss with its current settings.</param>
    /// <returns>A 0-dimensional tensor with the part's dtype and device, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">
    /// As for <see cref="ComputeLoss(BiEncoderOutput)"/>; or <paramref name="total"/> was collected by another loss type, with
    /// other settings, from vectors of another shape, on another device, or summarises fewer rows than the part has.
    /// </exception>
    /// <exception cref="NotSupportedException">A side's penalty (<see cref="GetPenalty"/>) is not a <see cref="SplitBatchPenalty"/>.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    public Tensor ComputeLoss(BiEncoderOutput part, RegularizationStatistics total)
    {
        ArgumentNullException.ThrowIfNull(total);
        using var scope = NewDisposeScope();
        return Compute(part, total, out _, out _).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="ComputeLoss(BiEncoderOutput, RegularizationStatistics)"/> with its two weighted halves, for logging.
    /// </summary>
    /// <param name="part">The bi-encoder output of this part.</param>
    /// <param name="total">The statistics of the whole batch, this part included.</param>
    /// <returns>The part's weighted query and document shares and their sum, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="ComputeLoss(BiEncoderOutput, RegularizationStatistics)"/>.</exception>
    /// <exception cref="NotSupportedException">A side's penalty (<see cref="GetPenalty"/>) is not a <see cref="SplitBatchPenalty"/>.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    public RegularizationLossComponents ComputeLossComponents(BiEncoderOutput part, RegularizationStatistics total)
    {
        ArgumentNullException.ThrowIfNull(total);
        using var scope = NewDisposeScope();
        var sum = Compute(part, total, out var query, out var doc);
        return new RegularizationLossComponents(
            query.MoveToOuterDisposeScope(), doc.MoveToOuterDisposeScope(), sum.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The unweighted penalty of one side, which the loss multiplies by that side's weight. Called at every computation, so
    /// a loss whose settings change (term weights, thresholds) may return a new penalty each time. Return a
    /// <see cref="SplitBatchPenalty"/> for the split-batch methods to accept the loss.
    /// </summary>
    /// <param name="side"><see cref="RegularizationSide.Query"/> or <see cref="RegularizationSide.Doc"/>.</param>
    /// <returns>The side's penalty.</returns>
    protected abstract EmbeddingPenalty GetPenalty(RegularizationSide side);

    private Tensor Compute(BiEncoderOutput output, RegularizationStatistics? total, out Tensor query, out Tensor doc)
    {
        var sides = Prepare(output, splitBatch: total is not null);
        if (total is null)
        {
            query = sides.QueryPenalty.Compute(sides.Query, sides.QueryMask).mul(QueryWeight);
            doc = sides.DocPenalty.Compute(sides.Doc, sides.DocMask).mul(DocWeight);
        }
        else
        {
            total.CheckFits(Layout(sides), sides.Query, sides.Doc.shape[0], nameof(total));
            query = ((SplitBatchPenalty)sides.QueryPenalty).ComputeShare(sides.Query, sides.QueryMask, total.Query, total.QueryCount).mul(QueryWeight);
            doc = ((SplitBatchPenalty)sides.DocPenalty).ComputeShare(sides.Doc, sides.DocMask, total.Doc, total.DocCount).mul(DocWeight);
        }

        return query.add(doc);
    }

    /// <summary>
    /// Reads both sides the way every computation does: through <see cref="ProcessEmbeddings"/>, with the common checks,
    /// and with the scoring masks when <see cref="UseScoringMask"/> is on (also for <see cref="SparsityBudget"/>).
    /// </summary>
    internal MaskedSides ReadSides(BiEncoderOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (query, doc) = ProcessEmbeddings(output);
        Guard.CheckEmbeddings(query, "query", nameof(output));
        Guard.CheckEmbeddings(doc, "document", nameof(output));
        Guard.CheckSameDevice(query, "query embeddings", doc, "document embeddings", nameof(output));
        if (!UseScoringMask)
        {
            return new MaskedSides(query, doc, null, null);
        }

        var queryMask = output.QueryEmbeddings?.ScoringMask;
        var docMask = output.DocEmbeddings?.ScoringMask;
        if (queryMask is not null)
        {
            Guard.CheckScoringMask(queryMask, query, "query", nameof(output));
        }

        if (docMask is not null)
        {
            Guard.CheckScoringMask(docMask, doc, "document", nameof(output));
        }

        return new MaskedSides(query, doc, queryMask, docMask);
    }

    /// <summary>Reads both sides and picks their penalties, checked for what the path needs.</summary>
    private Sides Prepare(BiEncoderOutput output, bool splitBatch)
    {
        var queryPenalty = GetPenalty(RegularizationSide.Query);
        var docPenalty = GetPenalty(RegularizationSide.Doc);
        if (splitBatch)
        {
            // Before anything is computed: a penalty without its decomposition cannot take part in a split batch.
            ThrowUnlessSplitBatch(queryPenalty, "query");
            ThrowUnlessSplitBatch(docPenalty, "document");
        }

        var read = ReadSides(output);
        queryPenalty.CheckFits(read.Query, "query", nameof(output));
        docPenalty.CheckFits(read.Doc, "document", nameof(output));
        return new Sides(read.Query, read.Doc, read.QueryMask, read.DocMask, queryPenalty, docPenalty);
    }

    private StatisticsLayout Layout(Sides sides)
    {
        var settings = $"UseScoringMask={UseScoringMask}";
        foreach (var (side, penalty) in new[] { ("Query", sides.QueryPenalty), ("Doc", sides.DocPenalty) })
        {
            var penaltySettings = ((SplitBatchPenalty)penalty).StatisticsSettings;
            settings += penaltySettings.Length == 0 ? string.Empty : $", {side}{penaltySettings}";
        }

        return new(GetType(), settings, sides.Query.shape[1..], sides.Doc.shape[1..]);
    }

    private void ThrowUnlessSplitBatch(EmbeddingPenalty penalty, string side)
    {
        if (penalty is not SplitBatchPenalty)
        {
            throw new NotSupportedException(
                $"{GetType().FullName} regularizes the {side} side with {penalty.GetType().FullName}, which does not derive from {nameof(SplitBatchPenalty)}, "
                + $"so it cannot regularize a split batch exactly. Derive the penalty from {nameof(SplitBatchPenalty)} (its statistics and share), or use ComputeLoss on the whole batch.");
        }
    }

    /// <summary>Both sides' checked tensors and, when <see cref="UseScoringMask"/> is on, their masks.</summary>
    internal readonly record struct MaskedSides(Tensor Query, Tensor Doc, Tensor? QueryMask, Tensor? DocMask);

    private readonly record struct Sides(
        Tensor Query, Tensor Doc, Tensor? QueryMask, Tensor? DocMask, EmbeddingPenalty QueryPenalty, EmbeddingPenalty DocPenalty);
}
