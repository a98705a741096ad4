namespace LightningIr.Regularization;

/// <summary>
/// The mean vector norm of one side, <c>mean(‖x‖_p)</c>: the norm of order p taken over the last dimension, the mean
/// over every other position (over the vectors the scoring mask keeps, given one: 0 when it keeps none). L1 and L2
/// regularization are this penalty with p = 1 and p = 2.
/// </summary>
/// <remarks>
/// The per-side term of Lightning IR's <c>L1Regularization</c> (<c>x.norm(p=1, dim=-1).mean()</c>) and
/// <c>L2Regularization</c> (<c>x.norm(p=2, dim=-1).mean()</c>). Cites Tibshirani (1996) for the lasso and Hoerl &amp;
/// Kennard (1970) for ridge regression. Over a split batch, a part's share is its own norm sum over the whole batch's
/// vector count, so the statistics are that count alone.
/// </remarks>
public sealed class VectorNormPenalty : SplitBatchPenalty
{
    private static readonly long[] LastDim = [-1];

    /// <summary>Creates the penalty.</summary>
    /// <param name="order">The norm's order p: at least 1 (a norm), or positive infinity for the largest magnitude.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is NaN or below 1.</exception>
    public VectorNormPenalty(double order)
    {
        if (!(order >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "A vector norm's order must be at least 1 (or positive infinity).");
        }

        Order = order;
    }

    /// <summary>The norm's order p: 1 for L1 regularization, 2 for L2.</summary>
    public double Order { get; }

    /// <inheritdoc/>
    protected internal override Tensor Compute(Tensor embeddings, Tensor? scoringMask)
    {
        var norms = Norms(embeddings);
        if (scoringMask is null)
        {
            return norms.mean();
        }

        var kept = scoringMask.sum().to(norms.dtype).clamp_min(1);
        return where(scoringMask, norms, 0.0).sum().div(kept);
    }

    /// <summary>The number of vectors that count (every vector, or those the mask keeps), float64, shaped <c>[1]</c>; it reads no embedding.</summary>
    protected internal override Tensor CollectStatistics(Tensor embeddings, Tensor? scoringMask)
        => scoringMask is null
            ? tensor(new[] { (double)(embeddings.numel() / embeddings.shape[^1]) }, ScalarType.Float64, embeddings.device)
            : scoringMask.sum().to(ScalarType.Float64).reshape(1);

    /// <summary>The part's norm sum (in float64) over the whole batch's vector count (at least 1), in the part's dtype.</summary>
    protected internal override Tensor ComputeShare(Tensor embeddings, Tensor? scoringMask, Tensor totalStatistics, long totalRows)
    {
        var norms = Norms(embeddings).to(ScalarType.Float64);
        var sum = (scoringMask is null ? norms : where(scoringMask, norms, 0.0)).sum();
        return sum.div(totalStatistics[0].clamp_min(1)).to(embeddings.dtype);
    }

    private Tensor Norms(Tensor embeddings) => linalg.vector_norm(embeddings, Order, LastDim);
}
