using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// Debian package descriptions as a known-item retrieval task, analyzed as a keyword baseline analyzes them: Lucene's
/// English analyzer (Porter stems, the stemmed BM25 row's) or its standard analyzer (plain BM25's).
/// Every cleaned package is a document of the collection. A seeded shuffle sets apart the held-out queries (the synopses
/// of <see cref="CorpusSettings.EvaluationQueries"/> packages), validation queries carved from the training packages, and
/// a sample of documents from which DF-FLOPS estimates document frequencies; training draws (synopsis, description)
/// pairs from the remaining packages.
/// </summary>
/// <remarks>
/// The vocabulary is every term the documents and the training queries use, ordered by document frequency (the held-out
/// and validation synopses add none: their words count only where documents have them, as in BM25's index). Nothing is
/// truncated: a document's bag holds every term BM25 indexes, with its frequency, and its length is BM25's.
/// </remarks>
public sealed class KnownItemCorpus
{
    /// <summary>BM25's term-frequency saturation, Lucene's default.</summary>
    public const float K1 = 1.2f;

    /// <summary>BM25's length normalisation, Lucene's default.</summary>
    public const float B = 0.75f;

    private readonly TermBag[] documentBags;
    private readonly TermBag[] queryBags;
    private readonly double[] idf;
    private readonly Dictionary<string, int> termIndex;
    private readonly Lucene.Net.Analysis.Analyzer? analyzer;

    public KnownItemCorpus(IReadOnlyList<PackageDescription> packages, CorpusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(packages);
        ArgumentNullException.ThrowIfNull(settings);
        var order = Enumerable.Range(0, packages.Count).ToArray();
        new Random(settings.Seed).Shuffle(order);
        if (settings.MaxDocuments is int cap && cap < order.Length)
        {
            order = order[..cap];
        }

        var reserved = settings.EvaluationQueries + settings.ValidationQueries + settings.FrequencySample;
        if (order.Length < reserved + 1000)
        {
            throw new InvalidOperationException(
                $"The collection has {order.Length} packages (after cleaning and --max-documents); {settings.EvaluationQueries} held-out queries, " +
                $"{settings.ValidationQueries} validation queries and {settings.FrequencySample} frequency-sample documents need at least 1,000 more for training.");
        }

        Documents = order.Select(i => packages[i]).ToList();
        EvaluationTargets = Enumerable.Range(0, settings.EvaluationQueries).ToArray();
        ValidationTargets = Enumerable.Range(settings.EvaluationQueries, settings.ValidationQueries).ToArray();
        FrequencySample = Enumerable.Range(settings.EvaluationQueries + settings.ValidationQueries, settings.FrequencySample).ToArray();
        TrainingTargets = Enumerable.Range(reserved, Documents.Count - reserved).ToArray();
        // The order in which the indexes add the documents: a shuffle of its own, so that Lucene's document numbers (its
        // tie-breaker) carry nothing of the splits.
        IndexOrder = Enumerable.Range(0, Documents.Count).ToArray();
        new Random(settings.Seed + 1).Shuffle(IndexOrder);

        analyzer = settings.Stemming ? KeywordIndex.StemmingAnalyzer : null;
        var documentTerms = Documents.Select(d => KeywordIndex.Analyze(d.Description, analyzer)).ToArray();
        var queryTerms = Documents.Select(d => KeywordIndex.Analyze(d.Synopsis, analyzer)).ToArray();
        var frequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var terms in documentTerms)
        {
            foreach (var term in terms.Distinct())
            {
                frequency[term] = frequency.GetValueOrDefault(term) + 1;
            }
        }

        foreach (var term in TrainingTargets.SelectMany(t => queryTerms[t]))
        {
            frequency.TryAdd(term, 0);
        }

        Vocabulary = frequency.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key).ToArray();
        termIndex = Vocabulary.Select((term, i) => (term, i)).ToDictionary(p => p.term, p => p.i, StringComparer.Ordinal);
        documentBags = documentTerms.Select(t => Bag(t, termIndex)).ToArray();
        queryBags = queryTerms.Select(t => Bag(t, termIndex)).ToArray();
        DocumentFrequencies = Vocabulary.Select(t => frequency[t]).ToArray();
        AverageLength = documentBags.Average(b => (double)b.Length);
        idf = DocumentFrequencies.Select(df => Math.Log(1 + ((Documents.Count - df + 0.5) / (df + 0.5)))).ToArray();
    }

    /// <summary>The collection: every cleaned package (up to the cap), in the seeded order.</summary>
    public IReadOnlyList<PackageDescription> Documents { get; }

    /// <summary>The documents whose synopses are the held-out queries.</summary>
    public int[] EvaluationTargets { get; }

    /// <summary>The documents whose synopses are the validation queries, carved from the training packages.</summary>
    public int[] ValidationTargets { get; }

    /// <summary>Documents from which DF-FLOPS estimates document frequencies.</summary>
    public int[] FrequencySample { get; }

    /// <summary>The documents whose (synopsis, description) pairs training draws from.</summary>
    public int[] TrainingTargets { get; }

    /// <summary>The order in which every index adds the documents: a seeded shuffle, independent of the splits.</summary>
    public int[] IndexOrder { get; }

    /// <summary>The terms, most frequent first: term <c>i</c> of a vector is <c>Vocabulary[i]</c>.</summary>
    public string[] Vocabulary { get; }

    /// <summary>The sparse vocabulary's size.</summary>
    public int VocabularySize => Vocabulary.Length;

    /// <summary>Each term's document frequency in the collection.</summary>
    public int[] DocumentFrequencies { get; }

    /// <summary>The mean document length in analyzed tokens, BM25's avgdl.</summary>
    public double AverageLength { get; }

    /// <summary>The mean number of distinct terms per document and per query.</summary>
    public (double Document, double Query) MeanTerms => (documentBags.Average(b => b.Terms.Length), queryBags.Average(b => b.Terms.Length));

    /// <summary>The most distinct terms any document holds.</summary>
    public int LongestDocument => documentBags.Max(b => b.Terms.Length);

    /// <summary>A document's bag of terms.</summary>
    public TermBag Document(int document) => documentBags[document];

    /// <summary>A document's synopsis (its query) as a bag of terms; words outside the vocabulary are left out.</summary>
    public TermBag Query(int document) => queryBags[document];

    /// <summary>
    /// Each term's idf as Lucene's <c>BM25Similarity</c> defines it, ln(1 + (N − df + 0.5) / (df + 0.5)): the one input of
    /// BM25 the encoder takes from the collection (it computes the rest, <see cref="ExpansionEncoder"/>).
    /// </summary>
    public IReadOnlyList<double> Idf => idf;

    /// <summary>Draws distinct training targets for one batch.</summary>
    public int[] TrainingBatch(int size, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, TrainingTargets.Length);
        var targets = new HashSet<int>();
        while (targets.Count < size)
        {
            targets.Add(TrainingTargets[random.Next(TrainingTargets.Length)]);
        }

        return [.. targets];
    }

    /// <summary>Documents as a sparse batch: their terms with BM25's inputs (tf, idf, length over avgdl).</summary>
    public TextBatch DocumentBatch(IReadOnlyList<int> documents, Device device)
        => TextBatch.Create(
            documents.Select(d => documentBags[d]).ToList(),
            idf,
            documents.Select(d => (float)(documentBags[d].Length / AverageLength)).ToList(),
            device);

    /// <summary>The synopses of the given documents as a sparse batch (their terms and frequencies; queries are not expanded).</summary>
    public TextBatch QueryBatch(IReadOnlyList<int> documents, Device device) => QueryBatch(documents.Select(d => queryBags[d]).ToList(), device);

    /// <summary>Query bags as a sparse batch.</summary>
    public TextBatch QueryBatch(IReadOnlyList<TermBag> bags, Device device)
        => TextBatch.Create(bags, idf, bags.Select(_ => 1f).ToList(), device);

    /// <summary>A text as a query bag, analyzed as the documents are: what serving a query from its text does.</summary>
    public TermBag QueryBag(string text) => Bag(KeywordIndex.Analyze(text, analyzer), termIndex);

    private static TermBag Bag(List<string> terms, Dictionary<string, int> index)
    {
        var counts = new SortedDictionary<int, float>();
        foreach (var term in terms)
        {
            if (index.TryGetValue(term, out var id))
            {
                counts[id] = counts.GetValueOrDefault(id) + 1;
            }
        }

        return new TermBag([.. counts.Keys], [.. counts.Values], terms.Count);
    }
}

/// <summary>A text as a bag of vocabulary terms: term ids ascending, each with its frequency in the text.</summary>
public sealed record TermBag(int[] Terms, float[] Frequencies, int Length);

/// <summary>The sizes and seed from which a <see cref="KnownItemCorpus"/> is built.</summary>
/// <param name="Seed">The seed of the splits and of the index order.</param>
/// <param name="EvaluationQueries">Held-out queries.</param>
/// <param name="ValidationQueries">Validation queries, carved from the training packages.</param>
/// <param name="FrequencySample">Documents from which DF-FLOPS estimates document frequencies.</param>
/// <param name="MaxDocuments">At most this many documents, or all.</param>
/// <param name="Stemming">Whether the learned models' terms are Porter stems (Lucene's English analyzer) rather than the standard analyzer's words.</param>
public sealed record CorpusSettings(int Seed, int EvaluationQueries, int ValidationQueries, int FrequencySample, int? MaxDocuments, bool Stemming = false);
