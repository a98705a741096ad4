using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace PackageSearch;

/// <summary>
/// Learned sparse vectors in a Lucene "impact" index, the way Anserini serves SPLADE: each document term's weight is
/// quantized to an integer and indexed as the term's frequency (the token is repeated that many times, positions and
/// norms are not stored); a query is a disjunction of its terms, each boosted by its own quantized weight; and
/// <see cref="DotProductSimilarity"/> scores frequency × boost, so a document's score is the dot product of the two
/// quantized vectors.
/// </summary>
public static class ImpactIndex
{
    /// <summary>The field that holds the impacts.</summary>
    public const string Field = "impact";

    private static readonly FieldType ImpactField = new()
    {
        IsIndexed = true,
        IsTokenized = true,
        IsStored = false,
        OmitNorms = true,
        IndexOptions = IndexOptions.DOCS_AND_FREQS,
    };

    /// <summary>Indexes the documents' vectors in <paramref name="order"/>, weights multiplied by <paramref name="scale"/> and rounded.</summary>
    public static SearchIndex Build(IReadOnlyList<SparseVector> documents, IReadOnlyList<int> order, float scale, Action<int> onDocument)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(onDocument);
        var similarity = new DotProductSimilarity();
        var directory = new RAMDirectory();
        var config = new IndexWriterConfig(SearchIndex.Version, new NoAnalysis()) { Similarity = similarity, OpenMode = OpenMode.CREATE };
        using (var writer = new IndexWriter(directory, config))
        {
            for (var i = 0; i < order.Count; i++)
            {
                var d = order[i];
                var document = new Document
                {
                    new Field(Field, new ImpactTokenStream(Quantize(documents[d], scale)), ImpactField),
                    new NumericDocValuesField(SearchIndex.OrdinalField, d),
                };
                writer.AddDocument(document);
                onDocument(i + 1);
            }

            writer.ForceMerge(1);
        }

        return new SearchIndex(directory, Field, similarity);
    }

    /// <summary>A query's vector as a weighted disjunction of its terms.</summary>
    public static Query Query(SparseVector query, float scale)
    {
        ArgumentNullException.ThrowIfNull(query);
        var disjunction = new BooleanQuery(disableCoord: true);
        foreach (var (term, impact) in Quantize(query, scale))
        {
            disjunction.Add(new TermQuery(new Term(Field, TermText(term))) { Boost = impact }, Occur.SHOULD);
        }

        return disjunction;
    }

    /// <summary>The term ids with a quantized weight of at least 1.</summary>
    public static List<(int Term, int Impact)> Quantize(SparseVector vector, float scale)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var kept = new List<(int, int)>(vector.Terms.Length);
        for (var i = 0; i < vector.Terms.Length; i++)
        {
            var impact = (int)MathF.Round(vector.Weights[i] * scale);
            if (impact > 0)
            {
                kept.Add((vector.Terms[i], impact));
            }
        }

        return kept;
    }

    /// <summary>A sparse term's name in the index.</summary>
    public static string TermText(int term) => term.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Emits each term as many times as its impact, which Lucene counts into the term's frequency.</summary>
    private sealed class ImpactTokenStream : TokenStream
    {
        private readonly ICharTermAttribute termAttribute;
        private readonly List<(int Term, int Impact)> impacts;
        private int index;
        private int emitted;
        private string current = string.Empty;

        public ImpactTokenStream(List<(int Term, int Impact)> impacts)
        {
            this.impacts = impacts;
            termAttribute = AddAttribute<ICharTermAttribute>();
        }

        public override void Reset()
        {
            base.Reset();
            index = 0;
            emitted = 0;
        }

        public override bool IncrementToken()
        {
            ClearAttributes();
            while (index < impacts.Count && emitted == impacts[index].Impact)
            {
                index++;
                emitted = 0;
            }

            if (index == impacts.Count)
            {
                return false;
            }

            if (emitted == 0)
            {
                current = TermText(impacts[index].Term);
            }

            termAttribute.SetEmpty().Append(current);
            emitted++;
            return true;
        }
    }

    /// <summary>The writer's default analyzer, never used: the impact field brings its own token stream.</summary>
    private sealed class NoAnalysis : Analyzer
    {
        protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader) =>
            throw new InvalidOperationException("The impact index takes pre-built token streams only.");
    }
}
