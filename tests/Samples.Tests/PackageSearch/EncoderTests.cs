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
    public void The_corpus_keeps_every_term_of_every_document()
    {
        var corpus = Corpus();
        corpus.VocabularySize.Should().Be(Words.Length, "every word of the documents is in the vocabulary");
        var document = corpus.Document(0);
        document.Frequencies.Sum().Should().Be(document.Length, "no token is dropped");
        var df = corpus.DocumentFrequencies[document.Terms[0]];
        corpus.Idf[document.Terms[0]].Should().BeApproximately(Math.Log(1 + ((corpus.Documents.Count - df + 0.5) / (df + 0.5))), 1e-12);
    }

    [Fact]
    public void The_untrained_encoder_scores_as_Lucenes_BM25_given_Lucenes_one_byte_document_lengths()
    {
        var corpus = Corpus();
        using var lucene = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        manual_seed(1);
        using var encoder = new ExpansionEncoder(corpus.VocabularySize, hiddenSize: 8);
        var checkedScores = 0;
        foreach (var q in corpus.EvaluationTargets.Take(20))
        {
            var hits = lucene.Scored(KeywordIndex.Bm25Query(corpus.Documents[q].Synopsis), 10);
            var documents = hits.Select(h => h.Document).ToArray();
            // Lucene keeps a document's length as one byte (1/√length, three mantissa bits); the encoder reads the
            // exact length. Given the lengths Lucene decodes, the two must agree to float precision.
            var lengths = documents.Select(d => LuceneLength(corpus.Document(d).Length) / (float)corpus.AverageLength).ToList();
            using var batch = TextBatch.Create(documents.Select(corpus.Document).ToList(), corpus.Idf, lengths, CPU);
            using var queries = corpus.QueryBatch([q], CPU);
            using var docs = encoder.EncodeDocuments(batch);
            using var query = encoder.EncodeQueries(queries);
            using var scores = query.matmul(docs.T);
            var ours = scores[0].data<float>().ToArray();
            for (var i = 0; i < hits.Length; i++)
            {
                ours[i].Should().BeApproximately(hits[i].Score, 1e-4f * hits[i].Score, "document {0} of query {1}", documents[i], q);
                checkedScores++;
            }
        }

        checkedScores.Should().BeGreaterThan(100);
    }

    /// <summary>The document length Lucene 4.8's BM25Similarity decodes from its norm byte.</summary>
    private static float LuceneLength(int length)
    {
        var decoded = Lucene.Net.Util.SmallSingle.Byte315ToSingle(Lucene.Net.Util.SmallSingle.SingleToByte315(1 / MathF.Sqrt(length)));
        return 1 / (decoded * decoded);
    }

    [Fact]
    public void An_untrained_encoder_expands_nothing_and_a_query_weighs_its_terms_by_their_frequency()
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
            bag.Terms.Should().OnlyContain(t => dense[t] > 0);
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
    public void Gradients_reach_the_expansion_head_while_it_expands_nothing_and_once_it_learns_it_can_expand_into_any_term()
    {
        var corpus = Corpus();
        manual_seed(2);
        using var encoder = new ExpansionEncoder(corpus.VocabularySize, hiddenSize: 8);
        using var batch = corpus.DocumentBatch([0, 1], CPU);
        encoder.EncodeDocuments(batch).sum().backward();
        var output = encoder.ExpansionParameters.ElementAt(1);
        output.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, "the straight-through gradient lets an absent expansion learn");

        using (no_grad())
        {
            encoder.ExpansionParameters.ElementAt(2).fill_(0.5f); // every term's bias
        }

        using var expanded = encoder.EncodeDocuments(batch);
        expanded.count_nonzero().item<long>().Should().Be(2L * corpus.VocabularySize, "the head reaches every term of the vocabulary, not only a document's own");
    }

    [Fact]
    public void A_documents_vector_is_its_lexical_part_on_its_own_terms_plus_the_expansion_heads_output()
    {
        var corpus = Corpus();
        manual_seed(4);
        using var encoder = new ExpansionEncoder(corpus.VocabularySize, hiddenSize: 8);
        using (no_grad())
        {
            encoder.ExpansionParameters.ElementAt(1).normal_(0, 1); // output embeddings: the head expands
        }

        using var batch = corpus.DocumentBatch([0, 1, 2], CPU);
        var (lexical, expansion) = encoder.EncodeDocumentParts(batch);
        using (lexical)
        using (expansion)
        using (var whole = encoder.EncodeDocuments(batch))
        {
            whole.allclose(lexical.add(expansion), rtol: 0, atol: 0).Should().BeTrue();
            expansion.count_nonzero().item<long>().Should().BeGreaterThan(3L * corpus.VocabularySize / 4, "about half the terms of each document are expanded");
            for (var d = 0; d < 3; d++)
            {
                var own = corpus.Document(d).Terms;
                var values = lexical[d].data<float>().ToArray();
                values.Select((v, t) => (v, t)).Where(p => p.v != 0).Select(p => p.t).Should().Equal(own, "the lexical part holds the document's own terms only");
            }
        }
    }

    [Fact]
    public void Disposing_the_encoder_frees_every_parameter()
    {
        var encoder = new ExpansionEncoder(vocabularySize: 50, hiddenSize: 8);
        var parameters = encoder.parameters().ToList();
        parameters.Should().HaveCount(14, "two per-term factors, k1 and b, two bilinear forms, the expansion head's two embeddings and bias, the context embedding and two linear layers' weights and biases");
        encoder.Dispose();
        parameters.Should().OnlyContain(p => p.IsInvalid);
    }
}
