using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace SampleSupport;

/// <summary>One training step's forward and backward pass with the in-batch contrastive loss.</summary>
public static class ContrastiveStep
{
    /// <summary>
    /// Encodes the queries and their target documents (row i of each belongs together), scores every query against
    /// every document of the batch, takes the cross-entropy towards the targets (the other documents are negatives)
    /// plus the objective's regularizers, and back-propagates; returns the objective's logged values. A sparsity budget, when
    /// given, is updated from the batch first, so that its weights are the ones this step's regularizer reads.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Backward(
        nn.Module<Tensor, Tensor> encoder, Tensor queryTokens, Tensor docTokens, TrainingObjective objective, SparsityBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(queryTokens);
        ArgumentNullException.ThrowIfNull(docTokens);
        ArgumentNullException.ThrowIfNull(objective);
        using var scope = NewDisposeScope();
        var queries = encoder.call(queryTokens);
        var docs = encoder.call(docTokens);
        var output = new BiEncoderOutput(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));
        budget?.Update(output);
        var scores = queries.squeeze(1).matmul(docs.squeeze(1).T);
        var labels = arange(scores.shape[0], device: scores.device);
        var result = objective.Compute(nn.functional.cross_entropy(scores, labels), output);
        result.Loss.backward();
        return result.Values;
    }
}
