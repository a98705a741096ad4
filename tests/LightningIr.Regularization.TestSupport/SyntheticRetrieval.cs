using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.TestSupport;

/// <summary>The synthetic collection a closed-loop training draws its batches from.</summary>
public enum SyntheticCorpus
{
    /// <summary>Each document is <see cref="SyntheticRetrieval.Features"/> random features, its query the same plus noise.</summary>
    Features,

    /// <summary>
    /// Each document is a set of <see cref="SyntheticRetrieval.DocumentWords"/> words drawn from a Zipf distribution over
    /// the <see cref="SyntheticRetrieval.Terms"/> terms, its query a few of those words: short queries, as a search box gets.
    /// </summary>
    Words,
}

/// <summary>
/// The synthetic retrieval tasks of the budgets' closed-loop tests: an encoder maps a text onto <see cref="Terms"/> terms
/// (a tanh layer, then log(1 + ReLU) as SPLADE's output), and the ranking loss is the in-batch cross-entropy.
/// </summary>
public static class SyntheticRetrieval
{
    /// <summary>The vector length.</summary>
    public const int Terms = 1000;

    /// <summary>Query–document pairs per batch, unless a case says otherwise.</summary>
    public const int Batch = 32;

    /// <summary>Input features per text of the <see cref="SyntheticCorpus.Features"/> collection.</summary>
    public const int Features = 32;

    /// <summary>Distinct words per document of the <see cref="SyntheticCorpus.Words"/> collection.</summary>
    public const int DocumentWords = 40;

    private const int Hidden = 64;

    private static readonly Lazy<Tensor> Zipf = new(() =>
    {
        using var scope = NewDisposeScope();
        return arange(1, Terms + 1, ScalarType.Float64).pow(-1.0).DetachFromDisposeScope();
    });

    /// <summary>A fresh encoder of the <see cref="SyntheticCorpus.Features"/> collection (from the current seed).</summary>
    public static nn.Module<Tensor, Tensor> Encoder() => Encoder(SyntheticCorpus.Features);

    /// <summary>A fresh encoder of the collection's inputs (from the current seed).</summary>
    public static nn.Module<Tensor, Tensor> Encoder(SyntheticCorpus collection)
        => nn.Sequential(nn.Linear(collection == SyntheticCorpus.Words ? Terms : Features, Hidden), nn.Tanh(), nn.Linear(Hidden, Terms));

    /// <summary>The next batch of 32 pairs of the <see cref="SyntheticCorpus.Features"/> collection.</summary>
    public static (Tensor Queries, Tensor Docs) Next(Generator generator, nn.Module<Tensor, Tensor> queryEncoder, nn.Module<Tensor, Tensor> docEncoder)
        => Next(generator, queryEncoder, docEncoder, SyntheticCorpus.Features, Batch, 0);

    /// <summary>The next batch's query and document vectors, drawn from <paramref name="generator"/>.</summary>
    /// <param name="generator">The data's random source.</param>
    /// <param name="queryEncoder">The query encoder.</param>
    /// <param name="docEncoder">The document encoder.</param>
    /// <param name="collection">The collection to draw from.</param>
    /// <param name="batch">Query–document pairs.</param>
    /// <param name="queryWords">Words per query of the <see cref="SyntheticCorpus.Words"/> collection.</param>
    public static (Tensor Queries, Tensor Docs) Next(
        Generator generator, nn.Module<Tensor, Tensor> queryEncoder, nn.Module<Tensor, Tensor> docEncoder, SyntheticCorpus collection, int batch, int queryWords)
    {
        ArgumentNullException.ThrowIfNull(queryEncoder);
        ArgumentNullException.ThrowIfNull(docEncoder);
        Tensor queryInput, docInput;
        if (collection == SyntheticCorpus.Words)
        {
            var words = Zipf.Value.expand(batch, Terms).multinomial(DocumentWords, replacement: false, generator: generator);
            var picked = rand([batch, DocumentWords], generator: generator).argsort(-1).narrow(-1, 0, queryWords);
            docInput = zeros(batch, Terms).scatter_(-1, words, ones(batch, DocumentWords));
            queryInput = zeros(batch, Terms).scatter_(-1, words.gather(-1, picked), ones(batch, queryWords));
        }
        else
        {
            docInput = randn([batch, Features], generator: generator);
            queryInput = docInput.add(randn([batch, Features], generator: generator).mul(0.5));
        }

        return (queryEncoder.call(queryInput).relu().log1p(), docEncoder.call(docInput).relu().log1p());
    }

    /// <summary>The in-batch cross-entropy: query i's positive is document i.</summary>
    public static Tensor RankingLoss(Tensor queries, Tensor docs)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(docs);
        return nn.functional.cross_entropy(queries.matmul(docs.T), arange(queries.shape[0]));
    }
}
