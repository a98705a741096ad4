using FluentAssertions;
using PackageSearch;
using Xunit;
using static TorchSharp.torch;

namespace PackageSearch.Tests;

public sealed class EncoderTests
{
    private static readonly string[] Words =
    [
        "parser", "parsers", "parsing", "library", "libraries", "image", "images", "network", "networking", "tool", "tools",
        "python", "rust", "haskell", "archive", "archives", "server", "client", "font", "fonts", "driver", "drivers", "game",
    ];

    /// <summary>A small collection: 1,400 packages of random words, enough for the corpus's splits.</summary>
    internal static KnownItemCorpus Corpus()
    {
        var random = new Random(3);
        string Text(int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => Words[random.Next(Words.Length)]));
        var packages = Enumerable.Range(0, 1400).Select(i => new PackageDescription($"p{i}", Text(4), Text(10 + random.Next(20)))).ToList();
        return new KnownItemCorpus(packages, new CorpusSettings(Seed: 1, EvaluationQueries: 100, ValidationQueries: 100, FrequencySample: 100, MaxDocuments: null));
    }

    [Fact]
    public void The_corpus_keeps_every_term_and_computes_Lucenes_BM25_weights()
    {
        var corpus = Corpus();
        corpus.VocabularySize.Should().Be(Words.Length, "every word of the documents is in the vocabulary");
        var document = corpus.Document(0);
        document.Frequencies.Sum().Should().Be(document.Length, "no token is dropped");
        var weights = corpus.Bm25(0);
        for (var i = 0; i < document.Terms.Length; i++)
        {
            var df = corpus.DocumentFrequencies[document.Terms[i]];
            var idf = Math.Log(1 + ((corpus.Documents.Count - df + 0.5) / (df + 0.5)));
            var tf = document.Frequencies[i];
            var expected = idf * tf * 2.2 / (tf + (1.2 * (0.25 + (0.75 * document.Length / corpus.AverageLength))));
            weights[i].Should().BeApproximately((float)expected, 1e-5f);
        }
    }

    [Fact]
    public void Expansion_candidates_are_the_other_words_of_a_terms_stem_family()
    {
        KnownItemCorpus.Stem("parsers").Should().Be(KnownItemCorpus.Stem("parser"));
        var corpus = Corpus();
        for (var d = 0; d < 50; d++)
        {
            var own = corpus.Document(d).Terms;
            foreach (var (term, source) in corpus.Siblings(d))
            {
                own.Should().NotContain(term);
                KnownItemCorpus.Stem(corpus.Vocabulary[term]).Should().Be(KnownItemCorpus.Stem(corpus.Vocabulary[own[source]]));
            }
        }

        corpus.MeanSiblings.Should().BeGreaterThan(0);
    }

    [Fact]
    public void An_untrained_encoder_is_BM25_and_expands_nothing()
    {
        var corpus = Corpus();
        manual_seed(1);
        using var encoder = new ExpansionEncoder(corpus.VocabularySize, hiddenSize: 8);
        using var documents = corpus.DocumentBatch([0, 1, 2], CPU);
        using var queries = corpus.QueryBatch([0, 1], CPU);

        using var docs = encoder.EncodeDocuments(documents);
        using var query = encoder.EncodeQueries(queries);

        docs.shape.Should().Equal(3, corpus.VocabularySize);
        for (var d = 0; d < 3; d++)
        {
            var bag = corpus.Document(d);
            var dense = docs[d].data<float>().ToArray();
            dense.Count(w => w != 0).Should().Be(bag.Terms.Length, "no expansion before training");
            for (var i = 0; i < bag.Terms.Length; i++)
            {
                dense[bag.Terms[i]].Should().BeApproximately(corpus.Bm25(d)[i], 1e-4f);
            }
        }

        var q = query[0].data<float>().ToArray();
        var queryBag = corpus.Query(0);
        for (var i = 0; i < queryBag.Terms.Length; i++)
        {
            q[queryBag.Terms[i]].Should().Be(queryBag.Frequencies[i], "a query weighs each of its terms by its frequency, as Lucene's BM25 query does");
        }

        q.Count(w => w != 0).Should().Be(queryBag.Terms.Length);
    }

    [Fact]
    public void Gradients_reach_the_expansion_factors_while_they_are_zero()
    {
        var corpus = Corpus();
        manual_seed(2);
        using var encoder = new ExpansionEncoder(corpus.VocabularySize, hiddenSize: 8);
        var document = Enumerable.Range(0, 50).First(d => corpus.Siblings(d).Count > 0);
        using var batch = corpus.DocumentBatch([document], CPU);
        encoder.EncodeDocuments(batch).sum().backward();
        var expansion = encoder.FactorParameters.ElementAt(2);
        expansion.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, "the straight-through gradient lets an absent expansion learn");
    }

    [Fact]
    public void Disposing_the_encoder_frees_every_parameter()
    {
        var encoder = new ExpansionEncoder(vocabularySize: 50, hiddenSize: 8);
        var parameters = encoder.parameters().ToList();
        parameters.Should().HaveCount(12, "three per-term factors, k1 and b, two bilinear forms, the embedding and two linear layers' weights and biases");
        encoder.Dispose();
        parameters.Should().OnlyContain(p => p.IsInvalid);
    }
}
