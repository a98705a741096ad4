namespace LightningIr.Regularization;

/// <summary>The per-side penalty formulas the losses share.</summary>
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
        var keep = scoringMask;
        if (activeThreshold is int threshold)
        {
            var active = embeddings.count_nonzero(LastDim).gt(threshold);
            keep = keep is null ? active : keep.logical_and(active);
        }

        // Left-out vectors become zeros; autograd's mul sends them no gradient.
        var magnitude = embeddings.abs();
        if (keep is not null)
        {
            magnitude = magnitude.mul(keep.unsqueeze(-1));
        }

        return BatchMean(magnitude).pow(2).sum();
    }

    /// <summary>
    /// The mean over dimension 0, as Lightning IR's <c>torch.mean(x, dim=0)</c>. On the CPU, ATen computes a
    /// single- or double-precision mean as the sum divided by n; calling those two ops directly gives the same
    /// value and gradient bit for bit, while mean's own backward would materialise an embedding-sized
    /// expanded gradient (sum's is a broadcast view). Elsewhere, and for float16/bfloat16 (whose mean
    /// accumulates in float32 before rounding), it is mean itself.
    /// </summary>
    private static Tensor BatchMean(Tensor magnitude)
    {
        var sumThenDivide = magnitude.device_type == DeviceType.CPU
            && magnitude.dtype is ScalarType.Float32 or ScalarType.Float64;
        return sumThenDivide ? magnitude.sum(BatchDim).div(magnitude.shape[0]) : magnitude.mean(BatchDim);
    }
}
