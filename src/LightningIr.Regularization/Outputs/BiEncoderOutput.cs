namespace LightningIr.Regularization;

/// <summary>
/// The output of a bi-encoder: query and document embeddings and, optionally, their scores.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.bi_encoder.bi_encoder_model.BiEncoderOutput</c>.</remarks>
/// <example>
/// <code>
/// var output = new BiEncoderOutput(
///     QueryEmbeddings: new BiEncoderEmbedding(queryVectors),
///     DocEmbeddings: new BiEncoderEmbedding(docVectors));
/// using var loss = new FlopsRegularization().ComputeLoss(output);
/// </code>
/// </example>
/// <param name="Scores">Relevance scores of the query–document pairs, if computed.</param>
/// <param name="QueryEmbeddings">The query embeddings; the regularizers require them.</param>
/// <param name="DocEmbeddings">The document embeddings; the regularizers require them.</param>
/// <param name="Similarity">The raw similarity tensor the scores were computed from, if kept.</param>
public record BiEncoderOutput(
    Tensor? Scores = null,
    BiEncoderEmbedding? QueryEmbeddings = null,
    BiEncoderEmbedding? DocEmbeddings = null,
    Tensor? Similarity = null) : LightningIrOutput(Scores)
{
    /// <summary>Equal when of the same record type and holding the same tensor objects (compared by reference, not content).</summary>
    /// <param name="other">The output to compare with.</param>
    /// <returns>Whether both hold the same tensors and equal embeddings.</returns>
    public virtual bool Equals(BiEncoderOutput? other)
        => base.Equals(other)
            && Equals(QueryEmbeddings, other.QueryEmbeddings)
            && Equals(DocEmbeddings, other.DocEmbeddings)
            && ReferenceEquals(Similarity, other.Similarity);

    /// <summary>A hash code consistent with <see cref="Equals(BiEncoderOutput?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), QueryEmbeddings, DocEmbeddings, RuntimeHelpers.GetHashCode(Similarity));
}
