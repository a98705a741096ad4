namespace LightningIr.Regularization;

/// <summary>
/// Base of every loss function in the library.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.loss.base.LossFunction</c>.</remarks>
public abstract class LossFunction
{
    /// <summary>The name the loss is logged under: the class name, as Lightning IR logs it.</summary>
    public virtual string Name => GetType().Name;
}
