namespace LightningIr.Regularization;

/// <summary>
/// A penalty that can be computed exactly over a batch split into parts (micro-batches, processes): the whole batch's
/// value depends on it only through additive statistics, and each part can compute its share of that value from them.
/// The split-batch methods of <see cref="RegularizationLossFunction"/> accept only losses whose penalties derive from it.
/// </summary>
/// <remarks>
/// No Lightning IR counterpart: Lightning IR regularizes each micro-batch and each process on its own. The guide
/// <c>docs/split-batches.md</c> explains the decomposition of each penalty.
/// </remarks>
public abstract class SplitBatchPenalty : EmbeddingPenalty
{
    /// <summary>
    /// What, besides the loss type and its scoring-mask setting, the statistics depend on: statistics collected under
    /// different settings are refused when combined, with this text in the message. The base has none (empty).
    /// </summary>
    protected internal virtual string StatisticsSettings => string.Empty;

    /// <summary>
    /// The additive statistics of one part: summed over the parts, they determine the whole batch's value. Called
    /// without autograd.
    /// </summary>
    /// <param name="embeddings">The part's checked embeddings, as <see cref="EmbeddingPenalty.Compute"/> receives them.</param>
    /// <param name="scoringMask">The part's checked mask, or <see langword="null"/>.</param>
    /// <returns>A floating-point tensor of a fixed shape (converted to float64 by the caller), in the caller's dispose scope.</returns>
    protected internal abstract Tensor CollectStatistics(Tensor embeddings, Tensor? scoringMask);

    /// <summary>
    /// One part's share of the whole batch's value. The shares of all parts add up to <see cref="EmbeddingPenalty.Compute"/>
    /// of the whole batch, and the gradient of each share with respect to its part equals the whole batch's.
    /// </summary>
    /// <param name="embeddings">The part's checked embeddings.</param>
    /// <param name="scoringMask">The part's checked mask, or <see langword="null"/>.</param>
    /// <param name="totalStatistics">The float64 statistics summed over every part of the batch, this one included.</param>
    /// <param name="totalRows">The number of rows (batch entries) of this side in the whole batch.</param>
    /// <returns>A 0-dimensional tensor in the part's dtype, in the caller's dispose scope.</returns>
    protected internal abstract Tensor ComputeShare(Tensor embeddings, Tensor? scoringMask, Tensor totalStatistics, long totalRows);
}
