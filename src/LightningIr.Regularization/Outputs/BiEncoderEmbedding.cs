namespace LightningIr.Regularization;

/// <summary>
/// The embeddings a bi-encoder produced for one side (queries or documents) of a batch.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.bi_encoder.bi_encoder_model.BiEncoderEmbedding</c>
/// (the tokenizer <c>encoding</c> is left out: the losses never read it).
/// </remarks>
/// <param name="Embeddings">
/// The embedding tensor, shaped <c>[batch, seq_len, dim]</c>. Single-vector models pool to
/// <c>seq_len = 1</c> (a SPLADE model gives <c>[batch, 1, vocab]</c>); a plain <c>[batch, dim]</c>
/// tensor is accepted by the regularizers too.
/// </param>
/// <param name="ScoringMask">
/// Optional boolean mask shaped <c>[batch, seq_len]</c>: <see langword="true"/> marks a real vector,
/// <see langword="false"/> a padding vector that does not take part in scoring.
/// </param>
/// <param name="Ids">Optional identifiers of the queries or documents, one per batch entry.</param>
public record BiEncoderEmbedding(Tensor Embeddings, Tensor? ScoringMask = null, IReadOnlyList<string>? Ids = null)
{
    /// <summary>Equal when of the same record type and holding the same tensor and id-list objects (compared by reference, not content).</summary>
    /// <param name="other">The embedding to compare with.</param>
    /// <returns>Whether both hold the same objects.</returns>
    public virtual bool Equals(BiEncoderEmbedding? other)
        => other is not null
            && EqualityContract == other.EqualityContract
            && ReferenceEquals(Embeddings, other.Embeddings)
            && ReferenceEquals(ScoringMask, other.ScoringMask)
            && ReferenceEquals(Ids, other.Ids);

    /// <summary>A hash code consistent with <see cref="Equals(BiEncoderEmbedding?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(
        EqualityContract, RuntimeHelpers.GetHashCode(Embeddings), RuntimeHelpers.GetHashCode(ScoringMask), RuntimeHelpers.GetHashCode(Ids));
}
