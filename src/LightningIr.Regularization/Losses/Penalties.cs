namespace LightningIr.Regularization;

/// <summary>The per-side penalty formulas the losses share: whole-batch values, split-batch statistics and shares.</summary>
internal static class Penalties
{
    private static readonly long[] LastDim = [-1];
    private static readonly long[] BatchDim = [0];

    /// <summary>
    /// <c>mean(‖x‖_ord)</c> over every vector along the last dimension; with a mask, the mean over the
    /// vectors marked true (0 when none is).
    /// </summary>
    public static Tensor MeanVectorNorm(Tensor embeddings, double ord, Tensor? scoringMask)
    {
        if (scoringMask is null)
        {
            return FusedApplies(embeddings, ord) ? FusedPenalties.MeanVectorNorm(embeddings, ord) : UnfusedMeanVectorNorm(embeddings, ord);
        }

        var norms = linalg.vector_norm(embeddings, ord, LastDim);
        var realCount = scoringMask.sum().to(norms.dtype).clamp_min(1);
        return where(scoringMask, norms, 0.0).sum().div(realCount);
    }

    /// <summary><see cref="MeanVectorNorm"/> without a mask, differentiated by ATen's own backward formulas.</summary>
    public static Tensor UnfusedMeanVectorNorm(Tensor embeddings, double ord) => linalg.vector_norm(embeddings, ord, LastDim).mean();

    /// <summary>
    /// The additive statistic <see cref="VectorNormShare"/> needs: the number of vectors counted (the real ones under a
    /// mask), float64, shaped [1]. The norms themselves are not needed: a part's share is its own norm sum divided by
    /// the whole batch's count, so collecting never reads the embeddings.
    /// </summary>
    public static Tensor VectorCount(Tensor embeddings, Tensor? scoringMask)
        => scoringMask is null
            ? tensor(new[] { (double)(embeddings.numel() / embeddings.shape[^1]) }, ScalarType.Float64, embeddings.device)
            : scoringMask.sum().to(ScalarType.Float64).reshape(1);

    /// <summary>
    /// This part's share of <see cref="MeanVectorNorm"/> over the whole batch: the part's norm sum (in float64) divided
    /// by the whole batch's vector count from <see cref="VectorCount"/> (at least 1), in the part's dtype.
    /// </summary>
    public static Tensor VectorNormShare(Tensor embeddings, double ord, Tensor? scoringMask, Tensor total)
    {
        var count = total[0].clamp_min(1);
        return scoringMask is null && FusedApplies(embeddings, ord)
            ? FusedPenalties.VectorNormShare(embeddings, ord, count)
            : UnfusedVectorNormShare(embeddings, ord, scoringMask, count);
    }

    /// <summary><see cref="VectorNormShare"/> given the whole batch's vector count (≥ 1), differentiated by ATen's own backward formulas.</summary>
    public static Tensor UnfusedVectorNormShare(Tensor embeddings, double ord, Tensor? scoringMask, Tensor count)
        => NormSum(embeddings, ord, scoringMask).div(count).to(embeddings.dtype);

    /// <summary>
    /// <c>Σ w · (mean over the batch of |x|)²</c>, summed over every remaining position (<c>w</c> = 1 when
    /// <paramref name="termWeights"/> is null). Vectors that are masked out, or have at most
    /// <paramref name="activeThreshold"/> non-zero entries, count as zeros; the batch mean still divides by
    /// the full batch size.
    /// </summary>
    public static Tensor Flops(Tensor embeddings, Tensor? scoringMask, int? activeThreshold, Tensor? termWeights)
    {
        var weights = termWeights?.detach().to(embeddings.dtype);
        return scoringMask is null && activeThreshold is null && FusedPenalties.AppliesToSign(embeddings)
            ? FusedPenalties.Flops(embeddings, weights)
            : UnfusedFlops(embeddings, scoringMask, activeThreshold, weights);
    }

    /// <summary><see cref="Flops"/> with term weights already in the embeddings' dtype, differentiated by ATen's own backward formulas.</summary>
    public static Tensor UnfusedFlops(Tensor embeddings, Tensor? scoringMask, int? activeThreshold, Tensor? termWeights)
    {
        var squaredMeans = BatchMean(Magnitude(embeddings, scoringMask, activeThreshold)).pow(2);
        return termWeights is null ? squaredMeans.sum() : squaredMeans.mul(termWeights).sum();
    }

    /// <summary>
    /// The additive statistics of <see cref="Flops"/>: the column sums of |x| over the batch, of the kept vectors, as
    /// float64. Within the part ATen reduces in the embeddings' dtype (float16 and bfloat16 in float32); the result is
    /// float64 from there on, for summing over parts and processes. A float64 reduction of float32 embeddings would
    /// first convert the whole tensor, costing several clones.
    /// </summary>
    public static Tensor FlopsStatistics(Tensor embeddings, Tensor? scoringMask, int? activeThreshold)
    {
        var magnitude = Magnitude(embeddings, scoringMask, activeThreshold);
        var columnSums = magnitude.dtype is ScalarType.Float16 or ScalarType.BFloat16
            ? magnitude.sum(BatchDim, type: ScalarType.Float32)
            : magnitude.sum(BatchDim);
        return columnSums.to(ScalarType.Float64);
    }

    /// <summary>
    /// This part's share of <see cref="Flops"/> over the whole batch. With <c>m</c> the whole batch's column means
    /// (from <paramref name="totalColumnSums"/> and <paramref name="totalRows"/>) and <c>s</c> the part's column sums,
    /// the share is <c>t = Σ w·m·s / B</c>: the shares add up to <c>Σ w·m²</c>. Its gradient must be twice that of
    /// <c>t</c> (the derivative of a square), so the share is returned as <c>2t − detach(t)</c>: the value of
    /// <c>t</c> exactly, the gradient of <c>2t</c>.
    /// </summary>
    public static Tensor FlopsShare(
        Tensor embeddings, Tensor? scoringMask, int? activeThreshold, Tensor? termWeights, Tensor totalColumnSums, long totalRows)
    {
        var coefficient = totalColumnSums.div(totalRows);
        if (termWeights is not null)
        {
            coefficient = coefficient.mul(termWeights.detach().to(ScalarType.Float64));
        }

        var typedCoefficient = coefficient.to(embeddings.dtype);
        return scoringMask is null && activeThreshold is null && FusedPenalties.AppliesToSign(embeddings)
            ? FusedPenalties.FlopsShare(embeddings, typedCoefficient, totalRows)
            : UnfusedFlopsShare(embeddings, scoringMask, activeThreshold, typedCoefficient, totalRows);
    }

    /// <summary>
    /// <see cref="FlopsShare"/> given the per-term coefficient <c>w·m</c> in the embeddings' dtype, differentiated by
    /// ATen's own backward formulas.
    /// </summary>
    public static Tensor UnfusedFlopsShare(Tensor embeddings, Tensor? scoringMask, int? activeThreshold, Tensor coefficient, long totalRows)
    {
        var partMeans = Magnitude(embeddings, scoringMask, activeThreshold).sum(BatchDim).div(totalRows);
        var share = partMeans.mul(coefficient).sum();
        return share.mul(2).sub(share.detach());
    }

    /// <summary>|x| with the left-out vectors zeroed; autograd's mul sends those vectors no gradient.</summary>
    private static Tensor Magnitude(Tensor embeddings, Tensor? scoringMask, int? activeThreshold)
    {
        var magnitude = embeddings.abs();
        return Keep(embeddings, scoringMask, activeThreshold) is { } keep ? magnitude.mul(keep.unsqueeze(-1)) : magnitude;
    }

    /// <summary>Which vectors count: those the mask marks real and that have more than the threshold's non-zero entries; null when all do.</summary>
    private static Tensor? Keep(Tensor embeddings, Tensor? scoringMask, int? activeThreshold)
    {
        if (activeThreshold is not int threshold)
        {
            return scoringMask;
        }

        var active = embeddings.count_nonzero(LastDim).gt(threshold);
        return scoringMask is null ? active : scoringMask.logical_and(active);
    }

    /// <summary>Whether a vector norm of order <paramref name="ord"/> takes the fused backward: the 1-norm's is <c>sgn(x) · g</c>.</summary>
    private static bool FusedApplies(Tensor embeddings, double ord)
        => ord == 1 ? FusedPenalties.AppliesToSign(embeddings) : FusedPenalties.Applies(embeddings);

    private static Tensor NormSum(Tensor embeddings, double ord, Tensor? scoringMask)
    {
        var norms = linalg.vector_norm(embeddings, ord, LastDim).to(ScalarType.Float64);
        return (scoringMask is null ? norms : where(scoringMask, norms, 0.0)).sum();
    }

    /// <summary>
    /// The mean over dimension 0, as Lightning IR's <c>torch.mean(x, dim=0)</c>. On the CPU, ATen computes a
    /// single- or double-precision mean as the sum divided by n; calling those two ops directly gives the same
    /// value and gradient bit for bit, while mean's own backward would materialise an embedding-sized
    /// expanded gradient (sum's is a broadcast view). Elsewhere, and for float16/bfloat16 (whose mean
    /// accumulates in float32 before rounding), it is mean itself.
    /// </summary>
    public static Tensor BatchMean(Tensor magnitude)
    {
        var sumThenDivide = magnitude.device_type == DeviceType.CPU
            && magnitude.dtype is ScalarType.Float32 or ScalarType.Float64;
        return sumThenDivide ? magnitude.sum(BatchDim).div(magnitude.shape[0]) : magnitude.mean(BatchDim);
    }
}
