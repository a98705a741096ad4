namespace LightningIr.Regularization;

/// <summary>
/// A loss computed from the embeddings of a <see cref="BiEncoderOutput"/> rather than from its scores: the type to accept
/// where any embedding loss will do.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.loss.base.EmbeddingLossFunction</c>.</remarks>
public abstract class EmbeddingLossFunction : LossFunction
{
    /// <summary>Computes the loss for one batch.</summary>
    /// <param name="output">The bi-encoder output holding the embeddings.</param>
    /// <returns>
    /// A 0-dimensional tensor that is part of the autograd graph of the embeddings, so that
    /// <c>loss.backward()</c> reaches the model that produced them.
    /// </returns>
    public abstract Tensor ComputeLoss(BiEncoderOutput output);
}
