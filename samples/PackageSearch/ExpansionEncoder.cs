using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// A learned sparse encoder that starts as BM25. A document's vector holds, for each of its own terms, a BM25 weight with
/// learned saturation and length normalisation (k1 and b, from Lucene's 1.2 and 0.75) times a learned factor
/// relu(1 + uₜ + contextₜ(d)); and, for each expansion candidate (a word of the vocabulary with the Porter stem of one of
/// its terms), that term's weight times relu(gₛ), a learned per-word expansion factor that starts at 0. A query's vector
/// holds each of its terms' frequency times relu(1 + vₜ), a table of one weight per term (or, with contextual queries,
/// relu(1 + vₜ + contextₜ(q))). ctx is a tanh layer over the text's mean term
/// embedding and contextₜ a bilinear form of the term's embedding and ctx. Untrained, every factor is 1 and every
/// expansion 0, so the dot product is BM25's score; training learns term reweighting, pruning (a factor at 0) and
/// expansion into morphological variants.
/// </summary>
/// <remarks>
/// SPLADE also starts from a model that predicts a text's own tokens and learns expansion on top; the factors are
/// per-term and contextual as in DeepImpact and uniCOIL (Mallia et al., SIGIR 2021; Lin and Ma, 2021). Expansion is
/// restricted to morphological variants because a dense expansion head over all V terms cost 0.4 s per step on this
/// machine, and its gains did not show. Queries are not expanded: a query's cost in an inverted index is its terms'
/// posting lists.
/// </remarks>
public sealed class ExpansionEncoder : nn.Module
{
    private readonly int vocabularySize;
    private readonly Embedding embedding;
    private readonly Linear documentContext;
    private readonly Linear queryContext;
    private readonly Parameter documentFactor;
    private readonly Parameter queryFactor;
    private readonly Parameter documentBilinear;
    private readonly Parameter queryBilinear;
    private readonly Parameter expansion;
    private readonly Parameter saturation;
    private readonly Parameter lengthNormalisation;

    /// <summary>Creates the untrained encoder (BM25).</summary>
    /// <param name="vocabularySize">The vector length.</param>
    /// <param name="hiddenSize">The width of the term embeddings and context layers.</param>
    /// <param name="contextualQueries">
    /// Whether a query term's factor depends on the query's context. Without (the default), it is relu(1 + vₜ): a table
    /// of one weight per term, so that serving a query needs no model, only a lookup (as inference-free sparse retrievers
    /// serve queries).
    /// </param>
    public ExpansionEncoder(int vocabularySize, int hiddenSize, bool contextualQueries = false) : base(nameof(ExpansionEncoder))
    {
        this.vocabularySize = vocabularySize;
        ContextualQueries = contextualQueries;
        embedding = nn.Embedding(vocabularySize, hiddenSize);
        documentContext = nn.Linear(hiddenSize, hiddenSize);
        queryContext = nn.Linear(hiddenSize, hiddenSize);
        documentFactor = new Parameter(zeros(vocabularySize));
        queryFactor = new Parameter(zeros(vocabularySize));
        documentBilinear = new Parameter(zeros(hiddenSize, hiddenSize));
        queryBilinear = new Parameter(zeros(hiddenSize, hiddenSize));
        expansion = new Parameter(zeros(vocabularySize));
        saturation = new Parameter(tensor(KnownItemCorpus.K1));
        lengthNormalisation = new Parameter(tensor(KnownItemCorpus.B));
        RegisterComponents();
    }

    /// <summary>The per-term factors uₜ, vₜ and gₛ and BM25's k1 and b.</summary>
    public IEnumerable<Parameter> FactorParameters => [documentFactor, queryFactor, expansion, saturation, lengthNormalisation];

    /// <summary>The embeddings, context layers and bilinear forms.</summary>
    public IEnumerable<Parameter> ContextParameters => parameters().Except(FactorParameters);

    /// <summary>Whether query factors depend on the query's context; otherwise <see cref="QueryWeights"/> serves queries.</summary>
    public bool ContextualQueries { get; }

    /// <summary>For an encoder without contextual queries, the whole query side: each term's weight per occurrence, relu(1 + vₜ).</summary>
    public float[] QueryWeights()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return nn.functional.relu(queryFactor.add(1)).cpu().data<float>().ToArray();
    }

    /// <summary>The vector length: the vocabulary size.</summary>
    public int VocabularySize => vocabularySize;

    /// <summary>BM25's learned saturation k1 and length normalisation b.</summary>
    public (double K1, double B) Bm25Parameters => (saturation.item<float>(), lengthNormalisation.item<float>());

    /// <summary>Documents to dense vectors [rows, vocabulary].</summary>
    public Tensor EncodeDocuments(TextBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var context = Context(batch, documentContext);
        var k1 = saturation.clamp_min(0.01f);
        var b = lengthNormalisation.clamp(0, 1);
        var bm25 = batch.Idf.mul(batch.Frequencies).mul(k1.add(1))
            .div(batch.Frequencies.add(k1.mul(b.mul(batch.LengthRatio).add(b.neg().add(1)))));
        var lexical = bm25.mul(Factor(context, batch, documentFactor, documentBilinear));
        var expanded = lexical.index_select(0, batch.ExpansionSources).mul(Relu(expansion.index_select(0, batch.ExpansionTerms)));
        var rows = batch.RowIndex.mul(vocabularySize).add(batch.Terms);
        var expansionRows = batch.ExpansionRows.mul(vocabularySize).add(batch.ExpansionTerms);
        return zeros(batch.Rows * (long)vocabularySize, device: lexical.device)
            .scatter(0, cat([rows, expansionRows]), cat([lexical, expanded]))
            .view(batch.Rows, vocabularySize).MoveToOuterDisposeScope();
    }

    /// <summary>Queries to dense vectors [rows, vocabulary] holding only their own terms.</summary>
    public Tensor EncodeQueries(TextBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var factor = ContextualQueries
            ? Factor(Context(batch, queryContext), batch, queryFactor, queryBilinear)
            : Relu(queryFactor.index_select(0, batch.Terms).add(1));
        var weights = batch.Frequencies.mul(factor);
        var flat = batch.RowIndex.mul(vocabularySize).add(batch.Terms);
        return zeros(batch.Rows * (long)vocabularySize, dtype: weights.dtype, device: weights.device)
            .scatter(0, flat, weights).view(batch.Rows, vocabularySize).MoveToOuterDisposeScope();
    }

    /// <summary>The terms' embeddings and each row's context: tanh of a linear map of the frequency-weighted mean embedding.</summary>
    private (Tensor Terms, Tensor Context) Context(TextBatch batch, Linear layer)
    {
        var terms = embedding.call(batch.Terms);                                                     // [entries, hidden]
        var sums = zeros(batch.Rows, terms.shape[1], device: terms.device).index_add(0, batch.RowIndex, terms.mul(batch.Frequencies.unsqueeze(1)), 1);
        var counts = zeros(batch.Rows, device: terms.device).index_add(0, batch.RowIndex, batch.Frequencies, 1).clamp_min(1);
        return (terms, nn.functional.tanh(layer.call(sums.div(counts.unsqueeze(1)))));
    }

    /// <summary>relu(1 + uₜ + eₜ · A · ctx(row)) for every entry.</summary>
    private static Tensor Factor((Tensor Terms, Tensor Context) read, TextBatch batch, Tensor perTerm, Tensor bilinear)
    {
        var contextual = read.Terms.matmul(bilinear).mul(read.Context.index_select(0, batch.RowIndex)).sum([1]);
        return Relu(perTerm.index_select(0, batch.Terms).add(contextual).add(1));
    }

    /// <summary>
    /// relu(z) forward with a straight-through gradient (Bengio et al., 2013): z + detach(relu(z) − z) has relu's value
    /// and the identity's gradient, so a factor at 0 (an expansion that is not there yet, a pruned term) still learns
    /// whether it should be there.
    /// </summary>
    private static Tensor Relu(Tensor z) => z.add(nn.functional.relu(z.detach()).sub_(z.detach()));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
            documentContext.Dispose();
            queryContext.Dispose();
        }

        base.Dispose(disposing);
    }
}
