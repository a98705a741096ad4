using System.Collections.Concurrent;
using System.Reflection;

namespace LightningIr.Regularization;

/// <summary>
/// Base of the embedding regularizers: owns the query and document weights, reads the embeddings
/// out of a <see cref="BiEncoderOutput"/> and combines the two sides, so that each loss only says
/// how one side is penalised (<see cref="ComputePenalty"/>).
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.base.RegularizationLossFunction</c>. The README describes the memory,
/// exception and split-batch contracts.
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

    /// <summary>λq: the factor of the query penalty. Finite and ≥ 0; a refused value leaves the old one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    public double QueryWeight
    {
        get => queryWeight;
        set => queryWeight = Guard.CheckWeight(value, nameof(QueryWeight));
    }

    /// <summary>λd: the factor of the document penalty. Finite and ≥ 0; a refused value leaves the old one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    public double DocWeight
    {
        get => docWeight;
        set => docWeight = Guard.CheckWeight(value, nameof(DocWeight));
    }

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
    public override Tensor ComputeLoss(BiEncoderOutput output)
    {
        using var scope = CallScope.Open();
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
        using var scope = CallScope.Open();
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
    /// <exception cref="NotSupportedException">A subclass overrides <see cref="ComputePenalty"/> but not the split-batch hooks.</exception>
    public RegularizationStatistics CollectStatistics(BiEncoderOutput output)
    {
        ThrowIfSplitBatchUnsupported();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sides = Prepare(output);
        var query = CollectPenaltyStatistics(sides.Query, sides.QueryMask, RegularizationSide.Query).to(ScalarType.Float64);
        var doc = CollectPenaltyStatistics(sides.Doc, sides.DocMask, RegularizationSide.Doc).to(ScalarType.Float64);
        var statistics = new RegularizationStatistics(Layout(sides), query, doc, sides.Query.shape[0], sides.Doc.shape[0]);
        return statistics.MoveToOuterDisposeScope();
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
    /// <exception cref="NotSupportedException">A subclass overrides <see cref="ComputePenalty"/> but not the split-batch hooks.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    public Tensor ComputeLoss(BiEncoderOutput part, RegularizationStatistics total)
    {
        ArgumentNullException.ThrowIfNull(total);
        using var scope = CallScope.Open();
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
    /// <exception cref="NotSupportedException">A subclass overrides <see cref="ComputePenalty"/> but not the split-batch hooks.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="total"/> has been disposed.</exception>
    public RegularizationLossComponents ComputeLossComponents(BiEncoderOutput part, RegularizationStatistics total)
    {
        ArgumentNullException.ThrowIfNull(total);
        using var scope = CallScope.Open();
        var sum = Compute(part, total, out var query, out var doc);
        return new RegularizationLossComponents(
            query.MoveToOuterDisposeScope(), doc.MoveToOuterDisposeScope(), sum.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The unweighted penalty of one side: what the loss minimises for those embeddings.
    /// </summary>
    /// <param name="embeddings">The side's tensor from <see cref="ProcessEmbeddings"/>, shaped <c>[batch, ..., dim]</c>; already checked.</param>
    /// <param name="scoringMask">
    /// <see langword="null"/>, or (when <see cref="UseScoringMask"/> is on) a checked boolean mask shaped like
    /// <paramref name="embeddings"/> without its last dimension, <see langword="true"/> for real vectors.
    /// </param>
    /// <param name="side">Which side is being penalised, for losses with per-side settings.</param>
    /// <returns>A 0-dimensional tensor. It is created inside the caller's dispose scope, which releases its intermediates.</returns>
    protected abstract Tensor ComputePenalty(Tensor embeddings, Tensor? scoringMask, RegularizationSide side);

    /// <summary>
    /// Split-batch hook: the additive statistics of one side of a part, such that their sum over the parts determines
    /// the whole batch's penalty. Called without autograd. Override it together with <see cref="ComputePenaltyShare"/>
    /// in a subclass that overrides <see cref="ComputePenalty"/>, or the split-batch methods throw <see cref="NotSupportedException"/>.
    /// </summary>
    /// <param name="embeddings">The side's checked tensor, as <see cref="ComputePenalty"/> receives it.</param>
    /// <param name="scoringMask">The side's checked mask, or <see langword="null"/>, as <see cref="ComputePenalty"/> receives it.</param>
    /// <param name="side">Which side.</param>
    /// <returns>A floating-point tensor of any fixed shape (converted to float64), in the caller's dispose scope.</returns>
    /// <exception cref="NotSupportedException">Always, in the base class.</exception>
    protected virtual Tensor CollectPenaltyStatistics(Tensor embeddings, Tensor? scoringMask, RegularizationSide side)
        => throw SplitBatchNotSupported();

    /// <summary>
    /// Split-batch hook: one part's share of the whole batch's unweighted penalty of one side. The shares must add up to
    /// <see cref="ComputePenalty"/> of the whole batch, and their gradients equal its gradient.
    /// </summary>
    /// <param name="embeddings">The part's checked tensor of this side.</param>
    /// <param name="scoringMask">The part's checked mask of this side, or <see langword="null"/>.</param>
    /// <param name="side">Which side.</param>
    /// <param name="totalStatistics">The side's float64 statistics summed over the whole batch.</param>
    /// <param name="totalCount">The number of rows (batch entries) of this side in the whole batch.</param>
    /// <returns>A 0-dimensional tensor in the part's dtype, in the caller's dispose scope.</returns>
    /// <exception cref="NotSupportedException">Always, in the base class.</exception>
    protected virtual Tensor ComputePenaltyShare(
        Tensor embeddings, Tensor? scoringMask, RegularizationSide side, Tensor totalStatistics, long totalCount)
        => throw SplitBatchNotSupported();

    /// <summary>The settings, beyond the loss type and <see cref="UseScoringMask"/>, that change what the statistics hold.</summary>
    private protected virtual string StatisticsSettings => string.Empty;

    private Tensor Compute(BiEncoderOutput output, RegularizationStatistics? total, out Tensor query, out Tensor doc)
    {
        if (total is not null)
        {
            ThrowIfSplitBatchUnsupported();
        }

        var sides = Prepare(output);
        if (total is null)
        {
            query = ComputePenalty(sides.Query, sides.QueryMask, RegularizationSide.Query).mul(QueryWeight);
            doc = ComputePenalty(sides.Doc, sides.DocMask, RegularizationSide.Doc).mul(DocWeight);
        }
        else
        {
            total.CheckFits(Layout(sides), sides.Query, sides.Doc.shape[0], nameof(total));
            query = ComputePenaltyShare(sides.Query, sides.QueryMask, RegularizationSide.Query, total.Query, total.QueryCount).mul(QueryWeight);
            doc = ComputePenaltyShare(sides.Doc, sides.DocMask, RegularizationSide.Doc, total.Doc, total.DocCount).mul(DocWeight);
        }

        return query.add(doc);
    }

    /// <summary>Reads, checks and masks both sides of the output, as every path does.</summary>
    private Sides Prepare(BiEncoderOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (queryEmbeddings, docEmbeddings) = ProcessEmbeddings(output);
        Guard.CheckEmbeddings(queryEmbeddings, "query", nameof(output));
        Guard.CheckEmbeddings(docEmbeddings, "document", nameof(output));
        Guard.CheckSameDevice(queryEmbeddings, "query embeddings", docEmbeddings, "document embeddings", nameof(output));
        Tensor? queryMask = null;
        Tensor? docMask = null;
        if (UseScoringMask)
        {
            queryMask = output.QueryEmbeddings?.ScoringMask;
            docMask = output.DocEmbeddings?.ScoringMask;
            if (queryMask is not null)
            {
                Guard.CheckScoringMask(queryMask, queryEmbeddings, "query", nameof(output));
            }

            if (docMask is not null)
            {
                Guard.CheckScoringMask(docMask, docEmbeddings, "document", nameof(output));
            }
        }

        CheckSides(queryEmbeddings, docEmbeddings, nameof(output));
        return new Sides(queryEmbeddings, docEmbeddings, queryMask, docMask);
    }

    /// <summary>Loss-specific checks of the two sides' tensors, after the common ones (for example term weights that must fit them).</summary>
    private protected virtual void CheckSides(Tensor query, Tensor doc, string paramName)
    {
    }

    private StatisticsLayout Layout(Sides sides) => new(
        GetType(), $"UseScoringMask={UseScoringMask}{StatisticsSettings}", sides.Query.shape[1..], sides.Doc.shape[1..]);

    private void ThrowIfSplitBatchUnsupported()
    {
        if (!SplitBatchSupport.GetOrAdd(GetType(), IsSplitBatchSupported))
        {
            throw SplitBatchNotSupported();
        }
    }

    /// <summary>
    /// A type supports split batches when the hooks are declared at the level of its <see cref="ComputePenalty"/> or
    /// below: a subclass that changes the penalty but inherits the hooks would get another loss's statistics.
    /// </summary>
    private static bool IsSplitBatchSupported(Type type)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic;
        var penalty = type.GetMethod(nameof(ComputePenalty), flags)!.DeclaringType!;
        var collect = type.GetMethod(nameof(CollectPenaltyStatistics), flags)!.DeclaringType!;
        var share = type.GetMethod(nameof(ComputePenaltyShare), flags)!.DeclaringType!;
        // The base declares both hooks but never the penalty (it is abstract there), so hooks left to the base fail this test too.
        return penalty.IsAssignableFrom(collect) && penalty.IsAssignableFrom(share);
    }

    private NotSupportedException SplitBatchNotSupported() => new(
        $"{GetType().FullName} overrides {nameof(ComputePenalty)} but not {nameof(CollectPenaltyStatistics)} and {nameof(ComputePenaltyShare)}, "
        + "so it cannot regularize a split batch exactly. Override both hooks, or use ComputeLoss on the whole batch.");

    private static readonly ConcurrentDictionary<Type, bool> SplitBatchSupport = new();

    private readonly record struct Sides(Tensor Query, Tensor Doc, Tensor? QueryMask, Tensor? DocMask);
}
