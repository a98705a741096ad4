using FluentAssertions;
using PackageSearch;
using Xunit;

namespace PackageSearch.Tests;

public sealed class HardNegativeTests
{
    [Fact]
    public void Hard_negatives_are_BM25s_top_documents_without_the_positive()
    {
        var corpus = EncoderTests.Corpus();
        using var bm25 = SearchIndex.Bm25(corpus.Documents, _ => { });
        var mined = 0;
        var negatives = HardNegatives.Mine(bm25, corpus, depth: 5, q => mined = q);
        mined.Should().Be(corpus.TrainingTargets.Length);
        var random = new Random(1);
        foreach (var target in corpus.TrainingTargets.Take(100))
        {
            var top = bm25.Search(SearchIndex.Bm25Query(corpus.Documents[target].Synopsis), 6).Where(h => h != target).Take(5).ToArray();
            for (var i = 0; i < 10; i++)
            {
                var negative = negatives.Draw(target, random);
                negative.Should().NotBe(target);
                top.Should().Contain(negative);
            }
        }
    }
}
