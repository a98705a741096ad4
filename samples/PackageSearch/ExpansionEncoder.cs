using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// A learned sparse encoder that starts as BM25 and may expand a document into any term of the vocabulary. A
/// document's vector is the sum of a lexical part and an expansion head. The lexical part holds, for each of its own
/// terms, a BM25 weight with learned saturation and length normalisation (k1 and b, from Lucene's 1.2 and 0.75) times a
/// learned factor relu(1 + uₜ + contextₜ(d)). The expansion head gives every term j of the vocabulary the weight
/// relu(h(d) · oⱼ + cⱼ): h(d) is the frequency-weighted mean of the document's terms' input embeddings, oⱼ an output
/// embedding and cⱼ a bias, a rank-<c>hiddenSize</c> map from the document's terms to all V terms. A query's vector
/// holds each of its terms' frequency times relu(1 + vₜ), a table of one weight per term (or, with contextual queries,
/// relu(1 + vₜ + contextₜ(q))). ctx is a tanh layer over the text's mean term embedding and contextₜ a bilinear form of
/// the term's embedding and ctx. Untrained, every factor is 1 and every output embedding and bias 0, so the dot product
/// is BM25's score and nothing is expanded; trained without a regularizer, the head puts weight on thousands of terms
/// per document.
/// </summary>
/// <remarks>
/// The expansion head has SPLADE's shape (Formal et al., SIGIR 2021): a map from the document's contents to every term
/// of the vocabulary through a low-rank output layer over term embeddings, relu-gated, which only a sparsity
/// regularizer makes sparse. The lexical factors are per-term and contextual as in DeepImpact and uniCOIL (Mallia et
/// al., SIGIR 2021; Lin and Ma, 2021). Queries are not expanded (inference-free, as in Geng et al., 2024): a query's
/// cost in an inverted index is its terms' posting lists, and serving it needs no model.
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
    private readonly Parameter expansionInput;
    private readonly Parameter expansionOutput;
    private readonly Parameter expansionBias;
    private readonly Parameter saturation;
    private readonly Parameter lengthNormalisation;

    /// <summary>Creates the untrained encoder (BM25).</summary>
    /// <param name="vocabularySize">The vector length.</param>
    /// <param name="hiddenSize">The width of the term embeddings, the context layers and the expansion head's rank.</param>
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
        // Input embeddings start as a random projection of the document's bag of terms (unit variance per coordinate);
        // output embeddings and biases at 0, so that the untrained head expands nothing.
        expansionInput = new Parameter(randn(vocabularySize, hiddenSize));
        expansionOutput = new Parameter(zeros(vocabularySize, hiddenSize));
        expansionBias = new Parameter(zeros(vocabularySize));
        saturation = new Parameter(tensor(KnownItemCorpus.K1));
        lengthNormalisation = new Parameter(tensor(KnownItemCorpus.B));
        RegisterComponents();
    }

    /// <summary>The per-term factors uₜ and vₜ and BM25's k1 and b.</summary>
    public IEnumerable<Parameter> FactorParameters => [documentFactor, queryFactor, saturation, lengthNormalisation];

    /// <summary>The expansion head: the input and output term embeddings and the per-term biases.</summary>
    public IEnumerable<Parameter> ExpansionParameters => [expansionInput, expansionOutput, expansionBias];

    /// <summary>The context embeddings, context layers and bilinear forms.</summary>
    public IEnumerable<Parameter> ContextParameters => parameters().Except(FactorParameters).Except(ExpansionParameters);

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

    /// <summary>Documents to dense vectors [rows, vocabulary]: <see cref="EncodeDocumentParts"/> summed.</summary>
    public Tensor EncodeDocuments(TextBatch batch)
    {
        var (lexical, expansion) = EncodeDocumentParts(batch);
        using (lexical)
        using (expansion)
        {
            return lexical.add(expansion);
        }
    }

    /// <summary>
    /// Documents' two parts, each dense [rows, vocabulary]: the lexical part (BM25 times the factors, on the document's
    /// own terms) and the expansion head's output (every term).
    /// </summary>
    public (Tensor Lexical, Tensor Expansion) EncodeDocumentParts(TextBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var context = Context(batch, documentContext);
        var k1 = saturation.clamp_min(0.01f);
        var b = lengthNormalisation.clamp(0, 1);
        var bm25 = batch.Idf.mul(batch.Frequencies).mul(k1.add(1))
            .div(batch.Frequencies.add(k1.mul(b.mul(batch.LengthRatio).add(b.neg().add(1)))));
        var lexical = bm25.mul(Factor(context, batch, documentFactor, documentBilinear));
        var rows = batch.RowIndex.mul(vocabularySize).add(batch.Terms);
        var own = zeros(batch.Rows * (long)vocabularySize, device: lexical.device).scatter(0, rows, lexical).view(batch.Rows, vocabularySize);
        var mean = RowMean(batch, expansionInput.index_select(0, batch.Terms));
        var expansion = Relu(torch.addmm(expansionBias, mean, expansionOutput.T, 1, 1));
        return (own.MoveToOuterDisposeScope(), expansion.MoveToOuterDisposeScope());
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
        return (terms, nn.functional.tanh(layer.call(RowMean(batch, terms))));
    }

    /// <summary>Each row's frequency-weighted mean of per-entry vectors [entries, width]: [rows, width].</summary>
    private static Tensor RowMean(TextBatch batch, Tensor perEntry)
    {
        var sums = zeros(batch.Rows, perEntry.shape[1], device: perEntry.device).index_add(0, batch.RowIndex, perEntry.mul(batch.Frequencies.unsqueeze(1)), 1);
        var tokens = zeros(batch.Rows, device: perEntry.device).index_add(0, batch.RowIndex, batch.Frequencies, 1).clamp_min(1);
        return sums.div(tokens.unsqueeze(1));
    }

    /// <summary>relu(1 + uₜ + eₜ · A · ctx(row)) for every entry.</summary>
    private static Tensor Factor((Tensor Terms, Tensor Context) read, TextBatch batch, Tensor perTerm, Tensor bilinear)
    {
        var contextual = read.Terms.matmul(bilinear).mul(read.Context.index_select(0, batch.RowIndex)).sum([1]);
        return Relu(perTerm.index_select(0, batch.Terms).add(contextual).add(1));
    }

    /// <summary>
    /// relu(z) forward with a straight-through gradient (Bengio et al., 2013): z + detach(relu(z) − z) has relu's value
    /// and the identity's gradient, so a factor or an expansion at 0 (a term pruned, or not there yet) still learns
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
