using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Util;

namespace PackageSearch;

/// <summary>
/// A single-segment Lucene index of the collection, searched on one thread, with its cost statistics. The documents are
/// added in a seeded order independent of the splits (<see cref="KnownItemCorpus.IndexOrder"/>), so that Lucene's tie
/// rule (equal scores rank the lower document number first) favours no split: among documents with equal scores, the
/// relevant one is first by chance alone.
/// </summary>
public sealed class SearchIndex : IDisposable
{
    /// <summary>The Lucene version the sample writes.</summary>
    public const LuceneVersion Version = LuceneVersion.LUCENE_48;

    /// <summary>The doc-values field that maps Lucene's document number back to the collection's.</summary>
    public const string OrdinalField = "ordinal";

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

    /// <summary>The collection numbers of the top <paramref name="count"/> documents.</summary>
    public int[] Search(Query query, int count) => Array.ConvertAll(Scored(query, count), hit => hit.Document);

    /// <summary>The top <paramref name="count"/> documents' collection numbers with Lucene's scores.</summary>
    public (int Document, float Score)[] Scored(Query query, int count)
    {
        ArgumentNullException.ThrowIfNull(query);
        return searcher.Search(query, count).ScoreDocs.Select(hit => (ordinals[hit.Doc], hit.Score)).ToArray();
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

/// <summary>The size of an index's posting lists.</summary>
/// <param name="Postings">Postings in the index: the sum of all terms' document frequencies.</param>
/// <param name="MaxDocumentFrequency">The longest posting list.</param>
/// <param name="CommonTerms">Terms in more than 10% of the documents.</param>
/// <param name="DocumentFrequencies">Every term's document frequency, longest first.</param>
public sealed record PostingStatistics(long Postings, int MaxDocumentFrequency, int CommonTerms, int[] DocumentFrequencies);
