namespace LightningIr.Regularization;

/// <summary>What <see cref="TrainingObjective.Compute(Tensor, BiEncoderOutput)"/> (or its split-batch overload) returns: the objective to minimise and its parts as numbers.</summary>
/// <param name="Loss">The objective, a 0-dimensional tensor in the caller's dispose scope; call <c>backward()</c> on it.</param>
/// <param name="Components">Every part of the objective by name, for logging (see <see cref="TrainingObjective"/> for the keys).</param>
public sealed record TrainingObjectiveResult(Tensor Loss, IReadOnlyDictionary<string, double> Components) : IDisposable
{
    /// <summary>Disposes <see cref="Loss"/>.</summary>
    public void Dispose() => Loss.Dispose();
}
