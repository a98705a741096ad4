using FluentAssertions;
using PackageSearch;
using Xunit;
using static TorchSharp.torch;

namespace PackageSearch.Tests;

public sealed class TrainingTests
{
    private static TrainingSettings Settings(int hardNegatives) => new()
    {
        Steps = 12,
        BatchSize = 8,
        HardNegatives = hardNegatives,
        LearningRate = 3e-3,
        QueryWeight = 1e-3,
        DocWeight = 1e-3,
        FrequencyEvery = 5,
        FrequencyScale = 3,
        Alpha = 0.1,
        Beta = 5,
        Seed = 2,
    };

    /// <summary>The small test collection and its BM25 top-5 hard negatives (mined, then the index is disposed).</summary>
    private static (KnownItemCorpus Corpus, HardNegatives Negatives) CorpusWithNegatives()
    {
        var corpus = EncoderTests.Corpus();
        using var bm25 = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        return (corpus, HardNegatives.Mine(bm25, corpus, depth: 5, _ => { }));
    }

    [Fact]
    public void A_flops_budget_steers_both_weights_and_a_document_budget_the_documents_from_the_first_step()
    {
        var (corpus, negatives) = CorpusWithNegatives();

        var flopsTrace = new List<BudgetStep>();
        using (Training.Train(corpus, negatives, Settings(hardNegatives: 2), new ModelPlan("f", Regularization.DfFlops, FlopsBudget: 0.05), CPU, _ => { }, flopsTrace))
        {
        }

        // The budget measures the queries against the previous batch's documents itself (their own batch at the first step).
        flopsTrace.Select(t => t.Step).Should().Equal(Enumerable.Range(1, 12));
        flopsTrace.Should().OnlyContain(t => t.FlopsTarget > 0 && t.Flops > 0 && t.DocTarget == 0 && t.QueryTarget == 0 && t.QueryWeight == t.DocWeight);
        flopsTrace[^1].DocWeight.Should().NotBe(1e-3, "the budget moved λ");

        var docTrace = new List<BudgetStep>();
        using (Training.Train(corpus, negatives, Settings(hardNegatives: 0), new ModelPlan("d", Regularization.DfFlops, DocL0Budget: 3), CPU, _ => { }, docTrace))
        {
        }

        docTrace.Select(t => t.Step).Should().Equal(Enumerable.Range(1, 12));
        docTrace.Should().OnlyContain(t => t.DocTarget > 0 && t.DocL0 > 0 && t.FlopsTarget == 0 && t.QueryTarget == 0 && t.QueryWeight == 1e-3);
    }

    [Fact]
    public void A_cost_relative_to_BM25_is_resolved_into_a_FLOPS_budget_before_training()
    {
        var plan = ModelPlan.Plans([30], [1.25])[^1];
        plan.Name.Should().Be("DF-FLOPS, 1.25× BM25's cost");
        plan.Resolve(0.2).FlopsBudget.Should().BeApproximately(0.25, 1e-12);
        ModelPlan.Plans([30], [1.25])[^2].Resolve(0.2).Should().Be(ModelPlan.Plans([30], [1.25])[^2], "a document budget has no cost to resolve");
        var (corpus, negatives) = CorpusWithNegatives();
        var unresolved = () => Training.Train(corpus, negatives, Settings(hardNegatives: 1), plan, CPU, _ => { }, []);
        unresolved.Should().Throw<ArgumentException>().WithMessage("*resolve the plan*");
    }

    [Fact]
    public void Trained_without_a_regularizer_the_encoder_expands_documents_and_the_host_copy_keeps_the_quantized_entries_up_to_the_cap()
    {
        var (corpus, negatives) = CorpusWithNegatives();
        var documents = Enumerable.Range(0, 300).ToArray();
        var own = documents.Average(d => corpus.Document(d).Terms.Length);
        using var start = Training.Train(corpus, negatives, Settings(hardNegatives: 1), new ModelPlan("start", Regularization.Untrained), CPU, _ => { }, []);
        CollectionEncoding.Documents(start, corpus, documents, scale: 8, CPU).EncoderDocL0.Should().Be(own, "the start is BM25: a document's own terms");

        using var trained = Training.Train(corpus, negatives, Settings(hardNegatives: 1), new ModelPlan("λ = 0", Regularization.Unregularized), CPU, _ => { }, []);
        var encoded = CollectionEncoding.Documents(trained, corpus, documents, scale: 8, CPU);
        encoded.EncoderDocL0.Should().BeGreaterThan(1.5 * own, "the expansion head puts weight on terms the documents do not hold");
        var capped = CollectionEncoding.Documents(trained, corpus, documents, scale: 8, CPU, cap: 3);
        capped.Vectors.Should().OnlyContain(v => v.Terms.Length <= 3);
        capped.QuantizedPostings.Should().Be(encoded.QuantizedPostings, "the quantized count is taken before the cap");
        encoded.Postings.Should().Be(encoded.QuantizedPostings, "no document reaches the default cap");
        capped.CappedDocuments.Should().Be(encoded.Vectors.Count(v => v.Terms.Length > 3));
        encoded.Vectors.SelectMany(v => v.Weights).Should().OnlyContain(w => MathF.Round(w * 8) >= 1, "only what the impact index keeps");
        capped.EncoderDocL0.Should().Be(encoded.EncoderDocL0);
    }

    [Fact]
    public void By_default_the_document_penalty_falls_on_the_expansions_and_only_with_PenalizeOwnTerms_on_the_documents_own_terms()
    {
        var (corpus, negatives) = CorpusWithNegatives();
        var documents = Enumerable.Range(0, 200).ToArray();
        var strong = Settings(hardNegatives: 1) with { LearningRate = 0.03, QueryWeight = 0, DocWeight = 100, WarmupRatio = 0 };
        double OwnTermsKept(TrainingSettings settings)
        {
            using var encoder = Training.Train(corpus, negatives, settings, new ModelPlan("FLOPS", Regularization.Flops), CPU, _ => { }, []);
            using var batch = corpus.DocumentBatch(documents, CPU);
            var (lexical, expansion) = encoder.EncodeDocumentParts(batch);
            using (lexical)
            using (expansion)
            {
                return lexical.count_nonzero().item<long>() / (double)documents.Sum(d => corpus.Document(d).Terms.Length);
            }
        }

        var expansionsPay = OwnTermsKept(strong);
        var everythingPays = OwnTermsKept(strong with { PenalizeOwnTerms = true });
        expansionsPay.Should().BeGreaterThan(0.99, "the penalty does not reach the own terms, and at this rate the ranking loss keeps them");
        everythingPays.Should().BeLessThan(expansionsPay - 0.1, "a strong penalty on the whole vector removes own terms too");
    }
}
