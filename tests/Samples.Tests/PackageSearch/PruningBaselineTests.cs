using FluentAssertions;
using PackageSearch;
using Xunit;

namespace PackageSearch.Tests;

public sealed class PruningBaselineTests
{
    /// <summary>600 documents (more than two chunks) of 1 to 40 distinct random terms with random weights.</summary>
    private static SparseVector[] Collection(int vocabulary, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 600).Select(_ =>
        {
            var terms = Enumerable.Range(0, vocabulary).OrderBy(_ => random.Next()).Take(1 + random.Next(40)).Order().ToArray();
            return new SparseVector(terms, terms.Select(_ => (float)(0.1 + random.NextDouble())).ToArray());
        }).ToArray();
    }

    private static long Postings(IEnumerable<SparseVector> vectors) => vectors.Sum(v => (long)v.Terms.Length);

    [Theory]
    [InlineData(1)]
    [InlineData(4_321)]
    [InlineData(9_000)]
    public void Top_k_per_document_keeps_exactly_the_asked_postings_and_each_documents_largest_weights(long postings)
    {
        var documents = Collection(200, seed: 1);
        var pruned = PrunedBaselines.TopKPerDocument(documents, postings, 200);
        Postings(pruned).Should().Be(postings);
        var kept = pruned.Select(p => p.Terms.Length).ToArray();
        var cut = Enumerable.Range(0, documents.Length).Where(d => kept[d] < documents[d].Terms.Length).Select(d => kept[d]).ToArray();
        (cut.Max() - cut.Min()).Should().BeLessThanOrEqualTo(1, "every document that is cut keeps k or k + 1");
        kept.Should().OnlyContain(k => k <= cut.Max(), "a document that keeps all its terms has no more than the others keep");
        for (var d = 0; d < documents.Length; d++)
        {
            var expected = documents[d].Weights.Order().Reverse().Take(kept[d]).ToArray();
            pruned[d].Weights.Order().Reverse().Should().Equal(expected, "document {0} keeps its largest weights", d);
            pruned[d].Terms.Should().BeSubsetOf(documents[d].Terms);
        }
    }

    [Fact]
    public void Top_k_per_document_keeps_everything_when_asked_for_more_than_there_is()
    {
        var documents = Collection(200, seed: 2);
        PrunedBaselines.TopKPerDocument(documents, Postings(documents) + 10, 200).Should().BeEquivalentTo(documents, o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5_000)]
    public void One_global_threshold_keeps_the_collections_largest_weights_up_to_the_asked_postings(long postings)
    {
        var documents = Collection(300, seed: 3);
        var pruned = PrunedBaselines.GlobalThreshold(documents, postings, 300);
        var all = documents.SelectMany(d => d.Weights).OrderDescending().ToArray();
        Postings(pruned).Should().Be(postings, "random weights do not tie");
        pruned.SelectMany(p => p.Weights).Min().Should().Be(all[postings - 1]);
        for (var d = 0; d < documents.Length; d++)
        {
            var threshold = all[postings];
            var expected = documents[d].Terms.Where((_, i) => documents[d].Weights[i] > threshold).ToArray();
            pruned[d].Terms.Should().Equal(expected);
        }
    }
}
