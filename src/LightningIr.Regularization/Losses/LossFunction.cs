namespace LightningIr.Regularization;

/// <summary>
/// Base of every loss function in the library: it gives each its log <see cref="Name"/>, and it keeps Lightning IR's
/// hierarchy so that code written against Lightning IR's types ports directly.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.loss.base.LossFunction</c>.</remarks>
public abstract class LossFunction
{
    /// <summary>
    /// The name the loss is logged under: Lightning IR's class name, so that runs compare across both (the .NET class
    /// name, except <see cref="FlopsRegularization"/>, which logs as <c>FLOPSRegularization</c>; a subclass logs under its own class name).
    /// </summary>
    public virtual string Name => GetType().Name;
}
