namespace LightningIr.Regularization;

/// <summary>
/// The unweighted penalty of one side's embeddings: what a <see cref="RegularizationLossFunction"/> multiplies by that
/// side's weight. A loss names its penalty for each side in <see cref="RegularizationLossFunction.GetPenalty"/>. Derive
/// from <see cref="SplitBatchPenalty"/> instead when the penalty can also be split exactly over the parts of a batch.
/// </summary>
/// <remarks>
/// The per-side term of Lightning IR's <c>L1Regularization</c>, <c>L2Regularization</c> and <c>FLOPSRegularization</c>
/// (<c>lightning_ir.loss.regularization</c>), after Lightning IR's split of a loss into a base that owns the plumbing and
/// a formula. The guide <c>docs/losses.md</c> shows a custom penalty.
/// </remarks>
public abstract class EmbeddingPenalty
{
    /// <summary>The penalty's value.</summary>
    /// <param name="embeddings">The side's checked embeddings: floating point, shaped <c>[batch, ..., dim]</c>, no empty dimension.</param>
    /// <param name="scoringMask">
    /// <see langword="null"/>, or a checked boolean mask shaped like <paramref name="embeddings"/> without its last
    /// dimension, <see langword="true"/> for the vectors that count.
    /// </param>
    /// <returns>A 0-dimensional tensor, created inside the caller's dispose scope (which releases the intermediates).</returns>
    protected internal abstract Tensor Compute(Tensor embeddings, Tensor? scoringMask);

    /// <summary>
    /// Checks what the penalty itself needs of the embeddings, after the common checks (for example per-term weights that
    /// must fit them). Reads metadata only. The base accepts everything.
    /// </summary>
    /// <param name="embeddings">The side's checked embeddings.</param>
    /// <param name="side">The side's name for messages: <c>query</c>, <c>document</c> or <c>input</c>.</param>
    /// <param name="paramName">The parameter to name in an exception.</param>
    /// <exception cref="ArgumentException">The embeddings do not fit the penalty.</exception>
    protected internal virtual void CheckFits(Tensor embeddings, string side, string paramName)
    {
    }
}
