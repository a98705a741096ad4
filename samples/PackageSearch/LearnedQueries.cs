using Lucene.Net.Search;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// Serves a learned model's queries from their text, as a search engine does: the synopsis through the documents'
/// analyzer, the encoder's query side, quantization, and the impact index's weighted disjunction. Without contextual
/// query factors the query side is a table of one weight per term, read on the host with no model call.
/// </summary>
public sealed class LearnedQueries : IDisposable
{
    private readonly KnownItemCorpus corpus;
    private readonly ExpansionEncoder encoder;
    private readonly float[]? table;
    private readonly float scale;
    private readonly Device device;

    /// <summary>Takes over the trained encoder (disposed with this instance).</summary>
    public LearnedQueries(KnownItemCorpus corpus, ExpansionEncoder encoder, float scale, Device device)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(encoder);
        this.corpus = corpus;
        this.encoder = encoder;
        this.scale = scale;
        this.device = device;
        table = encoder.ContextualQueries ? null : encoder.QueryWeights();
    }

    /// <summary>The query's sparse vector before quantization.</summary>
    public SparseVector Encode(string text)
    {
        var bag = corpus.QueryBag(text);
        if (table is not null)
        {
            var kept = Enumerable.Range(0, bag.Terms.Length).Where(i => table[bag.Terms[i]] > 0).ToArray();
            return new SparseVector(kept.Select(i => bag.Terms[i]).ToArray(), kept.Select(i => bag.Frequencies[i] * table[bag.Terms[i]]).ToArray());
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var batch = corpus.QueryBatch([bag], device);
        return CollectionEncoding.ToSparse(encoder.EncodeQueries(batch))[0];
    }

    /// <summary>The Lucene query of a text: <see cref="Encode"/>, then the impact index's quantized disjunction.</summary>
    public Query Serve(string text) => ImpactIndex.Query(Encode(text), scale);

    public void Dispose() => encoder.Dispose();
}
