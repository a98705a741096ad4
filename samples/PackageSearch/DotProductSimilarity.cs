using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Util;

namespace PackageSearch;

/// <summary>
/// Scores a term match as the document's term frequency (the quantized document weight) times the query term's
/// boost (the quantized query weight), with no normalisation, so a disjunction scores the dot product.
/// </summary>
public sealed class DotProductSimilarity : Similarity
{
    public override long ComputeNorm(FieldInvertState state) => 1;

    public override SimWeight ComputeWeight(float queryBoost, CollectionStatistics collectionStats, params TermStatistics[] termStats) => new Weight(queryBoost);

    public override SimScorer GetSimScorer(SimWeight weight, AtomicReaderContext context) => new Scorer(((Weight)weight).Value);

    private sealed class Weight : SimWeight
    {
        private readonly float queryBoost;

        public Weight(float queryBoost)
        {
            this.queryBoost = queryBoost;
            Value = queryBoost;
        }

        public float Value { get; private set; }

        public override float GetValueForNormalization() => queryBoost * queryBoost;

        // The query norm is ignored: scores stay the dot product.
        public override void Normalize(float queryNorm, float topLevelBoost) => Value = queryBoost * topLevelBoost;
    }

    private sealed class Scorer(float weight) : SimScorer
    {
        public override float Score(int doc, float freq) => weight * freq;

        public override float ComputeSlopFactor(int distance) => 1;

        public override float ComputePayloadFactor(int doc, int start, int end, BytesRef payload) => 1;
    }
}
