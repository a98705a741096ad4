using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace PackageSearch;

/// <summary>The size of an index's posting lists.</summary>
/// <param name="Postings">Postings in the index: the sum of all terms' document frequencies.</param>
/// <param name="MaxDocumentFrequency">The longest posting list.</param>
/// <param name="CommonTerms">Terms in more than 10% of the documents.</param>
/// <param name="DocumentFrequencies">Every term's document frequency, longest first.</param>
public sealed record PostingStatistics(long Postings, int MaxDocumentFrequency, int CommonTerms, int[] DocumentFrequencies);

/// <summary>A single-segment Lucene index of the collection, searched on one thread, with its cost statistics.</summary>
public sealed class SearchIndex : IDisposable
{
    /// <summary>The Lucene version the sample writes.</summary>
    public const LuceneVersion Version = LuceneVersion.LUCENE_48;

    /// <summary>The doc-values field that maps Lucene's document number back to the collection's.</summary>
    public const string OrdinalField = "ordinal";

    /// <summary>The BM25 index's analyzer, shared by indexing and every query (Lucene analyzers are reusable and thread-safe).</summary>
    private static readonly StandardAnalyzer Analyzer = new(Version);

    private readonly Lucene.Net.Store.Directory directory;
    private readonly DirectoryReader reader;
    private readonly IndexSearcher searcher;
    private readonly int[] ordinals;

    public SearchIndex(Lucene.Net.Store.Directory directory, string field, Similarity similarity)
    {
        this.directory = directory;
        Field = field;
        reader = DirectoryReader.Open(directory);
        searcher = new IndexSearcher(reader) { Similarity = similarity };
        var values = MultiDocValues.GetNumericValues(reader, OrdinalField);
        ordinals = Enumerable.Range(0, reader.MaxDoc).Select(d => (int)values.Get(d)).ToArray();
    }

    /// <summary>The searched field.</summary>
    public string Field { get; }

    /// <summary>The number of documents.</summary>
    public int DocumentCount => reader.NumDocs;

    /// <summary>The stemming analyzer of the stemmed BM25 row: Lucene's English analyzer (Porter stemmer).</summary>
    internal static readonly Lucene.Net.Analysis.En.EnglishAnalyzer StemmingAnalyzer = new(Version);

    /// <summary>
    /// The BM25 baseline: the descriptions through Lucene's standard analyzer (or <paramref name="analyzer"/>), scored by
    /// <see cref="BM25Similarity"/> with Lucene's k1 = 1.2 and b = 0.75 unless given.
    /// </summary>
    public static SearchIndex Bm25(IReadOnlyList<PackageDescription> documents, Action<int> onDocument, float k1 = KnownItemCorpus.K1, float b = KnownItemCorpus.B, Analyzer? analyzer = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(onDocument);
        var similarity = new BM25Similarity(k1, b);
        var directory = new RAMDirectory();
        var config = new IndexWriterConfig(Version, analyzer ?? Analyzer) { Similarity = similarity, OpenMode = OpenMode.CREATE };
        using (var writer = new IndexWriter(directory, config))
        {
            for (var d = 0; d < documents.Count; d++)
            {
                writer.AddDocument(new Document
                {
                    new TextField(TextFieldName, documents[d].Description, Lucene.Net.Documents.Field.Store.NO),
                    new NumericDocValuesField(OrdinalField, d),
                });
                onDocument(d + 1);
            }

            writer.ForceMerge(1);
        }

        return new SearchIndex(directory, TextFieldName, similarity);
    }

    /// <summary>The BM25 index's field.</summary>
    public const string TextFieldName = "text";

    /// <summary>The analyzed terms of a text, in order, through the BM25 index's analyzer (or <paramref name="analyzer"/>).</summary>
    public static List<string> Analyze(string text, Analyzer? analyzer = null)
    {
        var terms = new List<string>();
        using var stream = (analyzer ?? Analyzer).GetTokenStream(TextFieldName, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            terms.Add(term.ToString());
        }

        stream.End();
        return terms;
    }

    /// <summary>A keyword query for the BM25 index: the text's analyzed terms as a disjunction (repeated terms add up).</summary>
    public static Query Bm25Query(string text, Analyzer? analyzer = null)
    {
        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in Analyze(text, analyzer))
        {
            terms[value] = terms.GetValueOrDefault(value) + 1;
        }

        var query = new BooleanQuery();
        foreach (var (term, count) in terms)
        {
            query.Add(new TermQuery(new Term(TextFieldName, term)) { Boost = count }, Occur.SHOULD);
        }

        return query;
    }

    /// <summary>The collection numbers of the top <paramref name="count"/> documents.</summary>
    public int[] Search(Query query, int count)
    {
        ArgumentNullException.ThrowIfNull(query);
        return searcher.Search(query, count).ScoreDocs.Select(hit => ordinals[hit.Doc]).ToArray();
    }

    /// <summary>
    /// The postings an exhaustive disjunction reads: the sum of its terms' document frequencies. Lucene 4.8 scores a
    /// disjunction by walking every posting of every term, so this is the work per query, whatever the hardware.
    /// </summary>
    public long PostingsVisited(Query query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var terms = new HashSet<Term>();
        searcher.Rewrite(query).ExtractTerms(terms);
        return terms.Sum(t => (long)reader.DocFreq(t));
    }

    /// <summary>Walks the field's terms and sums their posting lists.</summary>
    public PostingStatistics Statistics()
    {
        var frequencies = new List<int>();
        var terms = MultiFields.GetTerms(reader, Field);
        if (terms is not null)
        {
            var iterator = terms.GetEnumerator();
            while (iterator.MoveNext())
            {
                frequencies.Add(iterator.DocFreq);
            }
        }

        frequencies.Sort((a, b) => b.CompareTo(a));
        return new PostingStatistics(
            frequencies.Sum(f => (long)f),
            frequencies.Count > 0 ? frequencies[0] : 0,
            frequencies.Count(f => f > 0.1 * DocumentCount),
            [.. frequencies]);
    }

    public void Dispose()
    {
        reader.Dispose();
        directory.Dispose();
    }
}
