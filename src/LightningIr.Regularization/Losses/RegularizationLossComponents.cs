namespace LightningIr.Regularization;

/// <summary>
/// The two weighted halves of a regularization loss and their sum, for logging each side separately.
/// </summary>
/// <remarks>No Lightning IR counterpart: after sentence-transformers' <c>SpladeLoss</c>, which returns its components for logging.</remarks>
/// <param name="Query">The query penalty, already multiplied by <see cref="RegularizationLossFunction.QueryWeight"/>.</param>
/// <param name="Doc">The document penalty, already multiplied by <see cref="RegularizationLossFunction.DocWeight"/>.</param>
/// <param name="Total"><paramref name="Query"/> + <paramref name="Doc"/>: the value to add to the training objective.</param>
public sealed record RegularizationLossComponents(Tensor Query, Tensor Doc, Tensor Total) : IDisposable
{
    /// <summary>Equal when holding the same three tensor objects (compared by reference, not content).</summary>
    /// <param name="other">The components to compare with.</param>
    /// <returns>Whether both hold the same tensors.</returns>
    public bool Equals(RegularizationLossComponents? other)
        => other is not null && ReferenceEquals(Query, other.Query) && ReferenceEquals(Doc, other.Doc) && ReferenceEquals(Total, other.Total);

    /// <summary>A hash code consistent with <see cref="Equals(RegularizationLossComponents?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
        => HashCode.Combine(RuntimeHelpers.GetHashCode(Query), RuntimeHelpers.GetHashCode(Doc), RuntimeHelpers.GetHashCode(Total));

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Query.Dispose();
        Doc.Dispose();
        Total.Dispose();
    }
}
