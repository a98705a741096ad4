namespace LightningIr.Regularization;

/// <summary>The per-side penalty formulas, shared by the losses and the benchmarks' reference sequences.</summary>
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
        var norms = linalg.vector_norm(embeddings, ord, LastDim);
        if (scoringMask is null)
        {
            return norms.mean();
        }

        var realCount = scoringMask.sum().to(norms.dtype).clamp_min(1);
        return where(scoringMask, norms, 0.0).sum().div(realCount);
    }

    /// <summary>
    /// <c>Σ (mean over the batch of |x|)²</c>, summed over every remaining position. Vectors that are
    /// masked out, or have at most <paramref name="activeThreshold"/> non-zero entries, count as zeros;
    /// the batch mean still divides by the full batch size.
    /// </summary>
    public static Tensor Flops(Tensor embeddings, Tensor? scoringMask, int? activeThreshold)
    {
        var magnitude = embeddings.abs();
        var keep = scoringMask;
        if (activeThreshold is int threshold)
        {
            var active = embeddings.count_nonzero(LastDim).gt(threshold);
            keep = keep is null ? active : keep.logical_and(active);
        }

        if (keep is not null)
        {
            magnitude = magnitude.mul(keep.unsqueeze(-1));
        }

        return magnitude.mean(BatchDim).pow(2).sum();
    }
}
