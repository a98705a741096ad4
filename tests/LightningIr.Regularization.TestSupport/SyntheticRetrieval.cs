using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.TestSupport;

/// <summary>
/// The synthetic retrieval task of the budgets' closed-loop tests: each document is <see cref="Features"/> random
/// features, its query the same plus noise; an encoder maps features onto <see cref="Terms"/> terms (a tanh layer, then
/// log(1 + ReLU) as SPLADE's output), and the ranking loss is the in-batch cross-entropy of <see cref="Batch"/> pairs.
/// </summary>
public static class SyntheticRetrieval
{
    /// <summary>The vector length.</summary>
    public const int Terms = 1000;

    /// <summary>Query–document pairs per batch.</summary>
    public const int Batch = 32;

    /// <summary>Input features per text.</summary>
    public const int Features = 32;

    private const int Hidden = 64;

    /// <summary>A fresh encoder (from the current seed).</summary>
    public static nn.Module<Tensor, Tensor> Encoder() => nn.Sequential(nn.Linear(Features, Hidden), nn.Tanh(), nn.Linear(Hidden, Terms));

    /// <summary>The next batch's query and document vectors, drawn from <paramref name="generator"/>.</summary>
    public static (Tensor Queries, Tensor Docs) Next(Generator generator, nn.Module<Tensor, Tensor> queryEncoder, nn.Module<Tensor, Tensor> docEncoder)
    {
        ArgumentNullException.ThrowIfNull(queryEncoder);
        ArgumentNullException.ThrowIfNull(docEncoder);
        var docInput = randn([Batch, Features], generator: generator);
        var queryInput = docInput.add(randn([Batch, Features], generator: generator).mul(0.5));
        return (queryEncoder.call(queryInput).relu().log1p(), docEncoder.call(docInput).relu().log1p());
    }

    /// <summary>The in-batch cross-entropy: query i's positive is document i.</summary>
    public static Tensor RankingLoss(Tensor queries, Tensor docs)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(docs);
        return nn.functional.cross_entropy(queries.matmul(docs.T), arange(Batch));
    }
}
