using FluentAssertions;
using Lucene.Net.Search;
using PackageSearch;
using Xunit;

namespace PackageSearch.Tests;

public sealed class ImpactIndexTests
{
    private static readonly SparseVector[] Documents =
    [
        new([0, 1, 2], [1.0f, 0.5f, 0.04f]),   // term 2 quantizes to 0 at scale 10: not indexed
        new([1, 3], [2.0f, 0.3f]),
        new([0, 3], [0.2f, 1.5f]),
    ];

    [Fact]
    public void Quantize_rounds_scaled_weights_and_drops_zeros()
    {
        ImpactIndex.Quantize(Documents[0], 10).Should().Equal((0, 10), (1, 5));
    }

    [Fact]
    public void Scores_are_the_dot_product_of_the_quantized_vectors()
    {
        using var index = ImpactIndex.Build(Documents, Enumerable.Range(0, Documents.Length).ToArray(), 10, _ => { });
        var query = new SparseVector([0, 1, 3], [0.1f, 0.2f, 0.3f]);   // quantized: 1, 2, 3

        // document 0: 10·1 + 5·2 = 20; document 1: 20·2 + 3·3 = 49; document 2: 2·1 + 15·3 = 47
        index.Search(ImpactIndex.Query(query, 10), 10).Should().Equal(1, 2, 0);
        index.Search(ImpactIndex.Query(new SparseVector([0], [1f]), 10), 10).Should().Equal(0, 2);
    }

    [Fact]
    public void Postings_statistics_count_every_indexed_term_document_pair()
    {
        using var index = ImpactIndex.Build(Documents, Enumerable.Range(0, Documents.Length).ToArray(), 10, _ => { });

        var statistics = index.Statistics();

        statistics.Postings.Should().Be(6);
        statistics.DocumentFrequencies.Should().Equal(2, 2, 2);
        statistics.MaxDocumentFrequency.Should().Be(2);
        statistics.CommonTerms.Should().Be(3);
        index.PostingsVisited(ImpactIndex.Query(new SparseVector([0, 3], [1f, 1f]), 10)).Should().Be(4);
    }

    [Fact]
    public void Bm25_finds_the_document_that_shares_the_rare_words()
    {
        var documents = new[]
        {
            new PackageDescription("a", "s", "a library for parsing json documents quickly"),
            new PackageDescription("b", "s", "a tool for converting images between formats"),
            new PackageDescription("c", "s", "a library for reading and writing images"),
        };
        using var index = KeywordIndex.Bm25(documents, Enumerable.Range(0, documents.Length).ToArray(), _ => { });

        var query = (BooleanQuery)KeywordIndex.Bm25Query("The images, images between formats");

        index.Search(query, 3).Should().StartWith([1]);
        query.Clauses.Select(c => (c.Query.ToString(), c.Query.Boost)).Should().Equal(
            [("text:images^2.0", 2f), ("text:between", 1f), ("text:formats", 1f)],
            "the stop word goes, case folds, and a repeated term is one clause that counts twice");
    }

    [Theory]
    [InlineData(0.5, 3)]
    [InlineData(0.95, 5)]
    [InlineData(0.0, 1)]
    public void Quantile_is_the_nearest_rank(double p, double expected)
    {
        Evaluation.Quantile([1, 2, 3, 4, 5], p).Should().Be(expected);
    }
}
