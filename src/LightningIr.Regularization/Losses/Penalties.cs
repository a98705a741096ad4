namespace LightningIr.Regularization;

/// <summary>The per-side penalty formulas the losses share.</summary>
internal static class Penalties
{
    private static readonly long[] LastDim = [-1];

    /// <summary>
    /// <c>mean(‖x‖_ord)</c> over every vector along the last dimension; with a mask, the mean over the
    /// vectors marked true (0 when none is).
    /// </summary>
    public static Tensor MeanVectorNorm(Tensor embeddings, double ord, Tensor? scoringMask)
    {
        if (scoringMask is null)
        {
            return ord == 1 ? L1PenaltyFunction.apply(embeddings) : L2PenaltyFunction.apply(embeddings);
        }

        var norms = linalg.vector_norm(embeddings, ord, LastDim);
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
        var keep = scoringMask;
        if (activeThreshold is int threshold)
        {
            var active = embeddings.count_nonzero(LastDim).gt(threshold);
            keep = keep is null ? active : keep.logical_and(active);
        }

        // Left-out vectors become zeros; autograd's mul sends them no gradient.
        return FlopsPenaltyFunction.apply(keep is null ? embeddings : embeddings.mul(keep.unsqueeze(-1)));
    }
}
