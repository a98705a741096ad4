namespace LightningIr.Regularization;

/// <summary>
/// The output of a Lightning IR model: the base record that every model output derives from, carrying the scores. It is
/// here so that <see cref="BiEncoderOutput"/> has Lightning IR's shape and code ported from Lightning IR keeps its types.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.base.model.LightningIROutput</c>.</remarks>
/// <param name="Scores">Relevance scores of the query–document pairs, if the model computed them.</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The other overload is the record's compiler-generated copy constructor.")]
public record LightningIrOutput(Tensor? Scores = null)
{
    /// <summary>
    /// Equal when of the same record type and holding the same tensor objects: tensors compare by reference, never by
    /// content (a content comparison would wait on the device and fail on disposed tensors).
    /// </summary>
    /// <param name="other">The output to compare with.</param>
    /// <returns>Whether both hold the same tensors.</returns>
    public virtual bool Equals(LightningIrOutput? other)
        => other is not null && EqualityContract == other.EqualityContract && ReferenceEquals(Scores, other.Scores);

    /// <summary>A hash code consistent with <see cref="Equals(LightningIrOutput?)"/>: from the tensors' identities.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(EqualityContract, RuntimeHelpers.GetHashCode(Scores));
}
