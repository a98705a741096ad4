using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;

namespace PackageSearch;

/// <summary>The keyword baselines: BM25 indexes of the descriptions, the analyzers, and keyword queries of the synopses.</summary>
public static class KeywordIndex
{
    /// <summary>The BM25 index's analyzer, shared by indexing and every query (Lucene analyzers are reusable and thread-safe).</summary>
    private static readonly StandardAnalyzer Analyzer = new(SearchIndex.Version);

    /// <summary>The stemming analyzer of the stemmed BM25 row: Lucene's English analyzer (Porter stemmer).</summary>
    internal static readonly Lucene.Net.Analysis.En.EnglishAnalyzer StemmingAnalyzer = new(SearchIndex.Version);

    /// <summary>
    /// The BM25 baseline: the descriptions, added in <paramref name="order"/>, through Lucene's standard analyzer (or <paramref name="analyzer"/>), scored by
    /// <see cref="BM25Similarity"/> with Lucene's k1 = 1.2 and b = 0.75 unless given.
    /// </summary>
    public static SearchIndex Bm25(
        IReadOnlyList<PackageDescription> documents, IReadOnlyList<int> order, Action<int> onDocument, float k1 = KnownItemCorpus.K1, float b = KnownItemCorpus.B, Analyzer? analyzer = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(onDocument);
        var similarity = new BM25Similarity(k1, b);
        var directory = new RAMDirectory();
        var config = new IndexWriterConfig(SearchIndex.Version, analyzer ?? Analyzer) { Similarity = similarity, OpenMode = OpenMode.CREATE };
        using (var writer = new IndexWriter(directory, config))
        {
            for (var i = 0; i < order.Count; i++)
            {
                var d = order[i];
                writer.AddDocument(new Document
                {
                    new TextField(TextFieldName, documents[d].Description, Field.Store.NO),
                    new NumericDocValuesField(SearchIndex.OrdinalField, d),
                });
                onDocument(i + 1);
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
}
