namespace LightningIr.Regularization;

/// <summary>
/// The FLOPS penalty of one side, <c>Σⱼ wⱼ · (mean over the batch of |xⱼ|)²</c>, summed over every position j left after
/// the batch mean (for <c>[batch, seq, vocab]</c> embeddings, every sequence position and term), with <c>w</c> = 1 unless
/// term weights are given. Vectors the scoring mask drops, and vectors with at most <see cref="Threshold"/> non-zero
/// entries, count as zeros; the batch mean still divides by the full batch size.
/// </summary>
/// <remarks>
/// The per-side term of Lightning IR's <c>FLOPSRegularization</c> (<c>torch.sum(torch.mean(torch.abs(x), dim=0) ** 2)</c>).
/// Cites Paria et al., "Minimizing FLOPs to Learn Efficient Sparse Representations" (ICLR 2020, arXiv:2004.05665); the
/// threshold after sentence-transformers' <c>FlopsLoss(threshold=…)</c> (arXiv:2504.14839); term weights after DF-FLOPS
/// (Porco et al., SIGIR 2025, arXiv:2505.15070). Over a split batch the statistics are the column sums of |x|.
/// </remarks>
public sealed class FlopsPenalty : SplitBatchPenalty
{
    private static readonly long[] LastDim = [-1];
    private static readonly long[] BatchDim = [0];

    /// <summary>Creates the penalty.</summary>
    /// <param name="threshold">Vectors with at most this many non-zero entries count as zeros; <see langword="null"/> (default) keeps every vector.</param>
    /// <param name="termWeights">
    /// Per-term weights <c>w</c> that broadcast to one vector's shape (the embeddings' shape without the batch dimension), on
    /// the embeddings' device; <see langword="null"/> (default) is plain FLOPS. They never receive gradient. Their values are
    /// not checked here, since that would wait on the device: <see cref="FlopsRegularization"/> checks them when they are set.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="termWeights"/> is disposed or not floating point.</exception>
    public FlopsPenalty(int? threshold = null, Tensor? termWeights = null)
    {
        if (termWeights is not null)
        {
            Guard.CheckTermWeightsType(termWeights, nameof(termWeights));
        }

        Threshold = Guard.CheckThreshold(threshold, nameof(threshold));
        TermWeights = termWeights;
    }

    /// <summary>Vectors with at most this many non-zero entries count as zeros; <see langword="null"/> keeps every vector.</summary>
    public int? Threshold { get; }

    /// <summary>The per-term weights <c>w</c>, or <see langword="null"/> for plain FLOPS.</summary>
    public Tensor? TermWeights { get; }

    /// <inheritdoc/>
    protected internal override string StatisticsSettings => FormattableString.Invariant($"Threshold={Threshold}");

    /// <inheritdoc/>
    protected internal override void CheckFits(Tensor embeddings, string side, string paramName)
    {
        if (TermWeights is not null)
        {
            Guard.CheckTermWeightsFit(TermWeights, embeddings, side, paramName);
        }
    }

    /// <inheritdoc/>
    protected internal override Tensor Compute(Tensor embeddings, Tensor? scoringMask)
    {
        var squaredMeans = BatchMean(Magnitude(embeddings, scoringMask)).pow(2);
        return (TermWeights is null ? squaredMeans : squaredMeans.mul(TermWeights.detach().to(embeddings.dtype))).sum();
    }

    /// <summary>
    /// The column sums of |x| over the batch, of the vectors that count, as float64. Within the part ATen reduces in the
    /// embeddings' dtype (float16 and bfloat16 in float32); a float64 reduction of float32 embeddings would first convert
    /// the whole tensor.
    /// </summary>
    protected internal override Tensor CollectStatistics(Tensor embeddings, Tensor? scoringMask)
    {
        var magnitude = Magnitude(embeddings, scoringMask);
        var columnSums = magnitude.dtype is ScalarType.Float16 or ScalarType.BFloat16
            ? magnitude.sum(BatchDim, type: ScalarType.Float32)
            : magnitude.sum(BatchDim);
        return columnSums.to(ScalarType.Float64);
    }

    /// <summary>
    /// With <c>m</c> the whole batch's column means and <c>s</c> the part's column sums, the share is
    /// <c>t = Σ w·m·s / B</c>, and the shares add up to <c>Σ w·m²</c>. The square's derivative is twice that of <c>t</c>,
    /// so the share is returned as <c>2t − detach(t)</c>: the value of <c>t</c>, the gradient of <c>2t</c>.
    /// </summary>
    protected internal override Tensor ComputeShare(Tensor embeddings, Tensor? scoringMask, Tensor totalStatistics, long totalRows)
    {
        var coefficient = totalStatistics.div(totalRows);
        if (TermWeights is not null)
        {
            coefficient = coefficient.mul(TermWeights.detach().to(ScalarType.Float64));
        }

        var partMeans = Magnitude(embeddings, scoringMask).sum(BatchDim).div(totalRows);
        var share = partMeans.mul(coefficient.to(embeddings.dtype)).sum();
        return share.mul(2).sub(share.detach());
    }

    /// <summary>
    /// The mean over dimension 0, as Lightning IR's <c>torch.mean(x, dim=0)</c>. On the CPU, ATen computes a float32 or
    /// float64 mean as the sum divided by n; calling those two ops gives the same value and gradient bit for bit, while
    /// mean's own backward would materialise an embedding-sized expanded gradient (sum's is a broadcast view). Elsewhere,
    /// and for float16 and bfloat16 (whose mean accumulates in float32 before rounding), it is mean itself.
    /// </summary>
    private static Tensor BatchMean(Tensor magnitude)
    {
        // Stryker disable once Equality : on the CPU both paths give the same bits (tested in every dtype); the choice is memory, which the benchmarks' peak mode measures.
        var sumThenDivide = magnitude.device_type == DeviceType.CPU && magnitude.dtype is ScalarType.Float32 or ScalarType.Float64;
        // Stryker disable once Conditional : the same bits either way (see above); mean's backward costs an embedding-sized buffer.
        return sumThenDivide ? magnitude.sum(BatchDim).div(magnitude.shape[0]) : magnitude.mean(BatchDim);
    }

    /// <summary>|x| with the vectors that do not count zeroed; autograd's mul sends those vectors no gradient.</summary>
    private Tensor Magnitude(Tensor embeddings, Tensor? scoringMask)
    {
        var magnitude = embeddings.abs();
        return Kept(embeddings, scoringMask) is { } kept ? magnitude.mul(kept.unsqueeze(-1)) : magnitude;
    }

    /// <summary>The vectors that count: kept by the mask and with more than the threshold's non-zero entries; null when all do.</summary>
    private Tensor? Kept(Tensor embeddings, Tensor? scoringMask)
    {
        if (Threshold is not int threshold)
        {
            return scoringMask;
        }

        var active = embeddings.count_nonzero(LastDim).gt(threshold);
        return scoringMask is null ? active : scoringMask.logical_and(active);
    }
}
