namespace LightningIr.Regularization;

/// <summary>
/// Functional forms of the unweighted per-side penalties, for a tensor in hand, as <c>torch.nn.functional</c> is to
/// TorchSharp's loss modules. Each checks its input, is differentiable and returns a 0-dimensional tensor in the
/// caller's dispose scope.
/// </summary>
/// <remarks>
/// The per-side terms of Lightning IR's <c>L1Regularization</c>, <c>L2Regularization</c> and <c>FLOPSRegularization</c>
/// (<see cref="VectorNormPenalty"/>, <see cref="FlopsPenalty"/>). FLOPS is from Paria et al., ICLR 2020 (arXiv:2004.05665),
/// term weights from DF-FLOPS (Porco et al., SIGIR 2025, arXiv:2505.15070).
/// </remarks>
public static class RegularizationFunctional
{
    private static readonly VectorNormPenalty L1Penalty = new(1);
    private static readonly VectorNormPenalty L2Penalty = new(2);

    /// <summary>The mean L1 norm of the vectors along the last dimension (over the real vectors only, given a mask).</summary>
    /// <param name="embeddings">A floating-point tensor shaped <c>[batch, ..., dim]</c>.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="embeddings"/> without its last dimension, true for real vectors.</param>
    /// <returns>The penalty, a 0-dimensional tensor in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described.</exception>
    public static Tensor L1(Tensor embeddings, Tensor? scoringMask = null) => Compute(L1Penalty, embeddings, scoringMask);

    /// <summary>The mean Euclidean norm of the vectors along the last dimension (over the real vectors only, given a mask).</summary>
    /// <param name="embeddings">A floating-point tensor shaped <c>[batch, ..., dim]</c>.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="embeddings"/> without its last dimension, true for real vectors.</param>
    /// <returns>The penalty, a 0-dimensional tensor in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described.</exception>
    public static Tensor L2(Tensor embeddings, Tensor? scoringMask = null) => Compute(L2Penalty, embeddings, scoringMask);

    /// <summary><c>Σⱼ wⱼ · (mean over the batch of |xⱼ|)²</c> over every position left after the batch mean.</summary>
    /// <param name="embeddings">A floating-point tensor shaped <c>[batch, ..., dim]</c>.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="embeddings"/> without its last dimension; masked vectors count as zeros.</param>
    /// <param name="threshold">Vectors with at most this many non-zero entries count as zeros; <see langword="null"/> for none.</param>
    /// <param name="termWeights">Per-term weights <c>w</c> that broadcast to one vector's shape; <see langword="null"/> for plain FLOPS. Their values are not checked here.</param>
    /// <returns>The penalty, a 0-dimensional tensor in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor, mask or term weights are not as described.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is negative.</exception>
    public static Tensor Flops(Tensor embeddings, Tensor? scoringMask = null, int? threshold = null, Tensor? termWeights = null)
        => Compute(new FlopsPenalty(threshold, termWeights), embeddings, scoringMask);

    private static Tensor Compute(EmbeddingPenalty penalty, Tensor embeddings, Tensor? scoringMask)
    {
        Guard.CheckEmbeddings(embeddings, "input", nameof(embeddings));
        if (scoringMask is not null)
        {
            Guard.CheckScoringMask(scoringMask, embeddings, "input", nameof(scoringMask));
        }

        penalty.CheckFits(embeddings, "input", "termWeights");
        using var scope = NewDisposeScope();
        return penalty.Compute(embeddings, scoringMask).MoveToOuterDisposeScope();
    }
}
