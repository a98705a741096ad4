namespace LightningIr.Regularization;

/// <summary>
/// A regularizer as a TorchSharp module: <c>forward(query, doc)</c> is <see cref="RegularizationLossFunction.ComputeLoss(Tensor, Tensor)"/>,
/// for models and pipelines built from <c>nn.Module</c>s.
/// </summary>
/// <remarks>No Lightning IR counterpart: Lightning IR's loss functions are plain objects, as <see cref="RegularizationLossFunction"/> is.</remarks>
public sealed class RegularizationModule : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Wraps a regularizer; the module is named after it.</summary>
    /// <param name="regularizer">The regularizer; its weights and settings are read at each call.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    public RegularizationModule(RegularizationLossFunction regularizer)
        : base((regularizer ?? throw new ArgumentNullException(nameof(regularizer))).Name)
        => Regularizer = regularizer;

    /// <summary>The wrapped regularizer.</summary>
    public RegularizationLossFunction Regularizer { get; }

    /// <summary>The weighted regularization loss of the two sides.</summary>
    /// <param name="input1">The query embeddings, <c>[batch, ..., dim]</c>.</param>
    /// <param name="input2">The document embeddings, <c>[batch, ..., dim]</c>.</param>
    /// <returns>A 0-dimensional tensor in the caller's dispose scope.</returns>
    public override Tensor forward(Tensor input1, Tensor input2) => Regularizer.ComputeLoss(input1, input2);
}
