namespace LightningIr.Regularization;

/// <summary>
/// Base of the embedding regularizers: owns the query and document weights, reads the embeddings
/// out of a <see cref="BiEncoderOutput"/> and combines the two sides, so that each loss only says
/// how one side is penalised (<see cref="ComputePenalty"/>).
/// </summary>
/// <remarks>
/// <para>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.base.RegularizationLossFunction</c>. The loss is
/// <c>QueryWeight · penalty(queries) + DocWeight · penalty(documents)</c>, a 0-dimensional tensor with the
/// embeddings' dtype and device that carries their autograd graph.
/// </para>
/// <para>
/// Memory: every intermediate is created in a private dispose scope and released before the call
/// returns; only the result leaves it, into the caller's dispose scope if there is one (otherwise the
/// caller owns it). No value is copied to the host, so a call never waits for the device.
/// </para>
/// <para>
/// The weights may be changed between steps (see <see cref="RegularizationWeightScheduler"/>); a call reads each once.
/// </para>
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
        this.queryWeight = EmbeddingValidation.CheckWeight(queryWeight, nameof(queryWeight));
        this.docWeight = EmbeddingValidation.CheckWeight(docWeight, nameof(docWeight));
    }

    /// <summary>λq: the factor of the query penalty. Finite and ≥ 0; a refused value leaves the old one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    public double QueryWeight
    {
        get => queryWeight;
        set => queryWeight = EmbeddingValidation.CheckWeight(value, nameof(QueryWeight));
    }

    /// <summary>λd: the factor of the document penalty. Finite and ≥ 0; a refused value leaves the old one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or negative.</exception>
    public double DocWeight
    {
        get => docWeight;
        set => docWeight = EmbeddingValidation.CheckWeight(value, nameof(DocWeight));
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
        using var scope = NewDisposeScope();
        return Compute(output, out _, out _).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Computes the loss and its two weighted halves, for logging λq·penalty(queries) and λd·penalty(documents) separately.
    /// </summary>
    /// <param name="output">The bi-encoder output holding both sides' embeddings.</param>
    /// <returns>The weighted query and document penalties and their sum, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="ComputeLoss"/>.</exception>
    public RegularizationLossComponents ComputeLossComponents(BiEncoderOutput output)
    {
        using var scope = NewDisposeScope();
        var total = Compute(output, out var query, out var doc);
        return new RegularizationLossComponents(
            query.MoveToOuterDisposeScope(), doc.MoveToOuterDisposeScope(), total.MoveToOuterDisposeScope());
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

    private Tensor Compute(BiEncoderOutput output, out Tensor query, out Tensor doc)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (queryEmbeddings, docEmbeddings) = ProcessEmbeddings(output);
        EmbeddingValidation.CheckEmbeddings(queryEmbeddings, "query", nameof(output));
        EmbeddingValidation.CheckEmbeddings(docEmbeddings, "document", nameof(output));
        if (!EmbeddingValidation.SameDevice(queryEmbeddings, docEmbeddings))
        {
            throw new ArgumentException(
                $"The query embeddings are on {queryEmbeddings.device} but the document embeddings on {docEmbeddings.device}; put both on one device.",
                nameof(output));
        }

        Tensor? queryMask = null;
        Tensor? docMask = null;
        if (UseScoringMask)
        {
            queryMask = output.QueryEmbeddings?.ScoringMask;
            docMask = output.DocEmbeddings?.ScoringMask;
            if (queryMask is not null)
            {
                EmbeddingValidation.CheckScoringMask(queryMask, queryEmbeddings, "query", nameof(output));
            }

            if (docMask is not null)
            {
                EmbeddingValidation.CheckScoringMask(docMask, docEmbeddings, "document", nameof(output));
            }
        }

        query = ComputePenalty(queryEmbeddings, queryMask, RegularizationSide.Query).mul(QueryWeight);
        doc = ComputePenalty(docEmbeddings, docMask, RegularizationSide.Doc).mul(DocWeight);
        return query.add(doc);
    }
}
