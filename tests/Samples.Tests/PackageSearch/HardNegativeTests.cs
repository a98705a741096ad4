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
        using var bm25 = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        var mined = 0;
        var negatives = HardNegatives.Mine(bm25, corpus, depth: 5, q => mined = q);
        mined.Should().Be(corpus.TrainingTargets.Length);
        var random = new Random(1);
        foreach (var target in corpus.TrainingTargets.Take(100))
        {
            var top = bm25.Search(KeywordIndex.Bm25Query(corpus.Documents[target].Synopsis), 6).Where(h => h != target).Take(5).ToArray();
            for (var i = 0; i < 10; i++)
            {
                var negative = negatives.Draw(target, random);
                negative.Should().NotBe(target);
                top.Should().Contain(negative);
            }
        }
    }

    [Fact]
    public void Without_BM25_candidates_a_negative_is_any_other_document_of_the_collection()
    {
        // Synopses of words no description has: BM25 finds nothing for any training query.
        var random = new Random(4);
        var packages = Enumerable.Range(0, 1400)
            .Select(i => new PackageDescription($"p{i}", $"only{i} synopsis{i}", string.Join(' ', Enumerable.Range(0, 12).Select(_ => $"word{random.Next(50)}"))))
            .ToList();
        var corpus = new KnownItemCorpus(packages, new CorpusSettings(Seed: 1, EvaluationQueries: 100, ValidationQueries: 100, FrequencySample: 100, MaxDocuments: null));
        using var bm25 = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        var negatives = HardNegatives.Mine(bm25, corpus, depth: 5, _ => { });
        var target = corpus.TrainingTargets[0];
        var draws = Enumerable.Range(0, 2000).Select(_ => negatives.Draw(target, random)).ToList();
        draws.Should().NotContain(target).And.OnlyContain(d => d >= 0 && d < corpus.Documents.Count);
        draws.Should().Contain(d => d >= corpus.TrainingTargets.Length, "every document can be a negative, not only the first as many as there are training queries");
    }
}
