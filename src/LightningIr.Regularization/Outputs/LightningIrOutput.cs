namespace LightningIr.Regularization;

/// <summary>
/// The output of a Lightning IR model: the base record that every model output derives from.
/// </summary>
/// <remarks>Counterpart of Lightning IR's <c>lightning_ir.base.model.LightningIROutput</c>.</remarks>
/// <param name="Scores">Relevance scores of the query–document pairs, if the model computed them.</param>
public record LightningIrOutput(Tensor? Scores = null);
