namespace LightningIr.Regularization;

/// <summary>What <see cref="TrainingObjective.Compute(Tensor, BiEncoderOutput)"/> (or its split-batch overload) returns: the objective to minimise and its parts as numbers.</summary>
/// <param name="Loss">The objective, a 0-dimensional tensor in the caller's dispose scope; call <c>backward()</c> on it.</param>
/// <param name="Values">Every part of the objective by name, as numbers for logging (see <see cref="TrainingObjective"/> for the keys).</param>
public sealed record TrainingObjectiveResult(Tensor Loss, IReadOnlyDictionary<string, double> Values) : IDisposable
{
    /// <summary>Equal when holding the same tensor and dictionary objects (compared by reference, not content).</summary>
    /// <param name="other">The result to compare with.</param>
    /// <returns>Whether both hold the same objects.</returns>
    public bool Equals(TrainingObjectiveResult? other) => other is not null && ReferenceEquals(Loss, other.Loss) && ReferenceEquals(Values, other.Values);

    /// <summary>A hash code consistent with <see cref="Equals(TrainingObjectiveResult?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(Loss), RuntimeHelpers.GetHashCode(Values));

    /// <summary>Disposes <see cref="Loss"/>.</summary>
    public void Dispose() => Loss.Dispose();
}
