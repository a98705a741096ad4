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

    [Fact]
    public void A_flops_budget_steers_both_weights_and_a_document_budget_the_documents_from_the_first_step()
    {
        var corpus = EncoderTests.Corpus();
        using var bm25 = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        var negatives = HardNegatives.Mine(bm25, corpus, depth: 5, _ => { });

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
        var plan = Program.Plans([30], [1.25])[^1];
        plan.Name.Should().Be("DF-FLOPS, 1.25× BM25's cost");
        plan.Resolve(0.2).FlopsBudget.Should().BeApproximately(0.25, 1e-12);
        Program.Plans([30], [1.25])[^2].Resolve(0.2).Should().Be(Program.Plans([30], [1.25])[^2], "a document budget has no cost to resolve");
        var corpus = EncoderTests.Corpus();
        using var bm25 = KeywordIndex.Bm25(corpus.Documents, Enumerable.Range(0, corpus.Documents.Count).ToArray(), _ => { });
        var negatives = HardNegatives.Mine(bm25, corpus, depth: 5, _ => { });
        var unresolved = () => Training.Train(corpus, negatives, Settings(hardNegatives: 1), plan, CPU, _ => { }, []);
        unresolved.Should().Throw<ArgumentException>().WithMessage("*resolve the plan*");
    }
}
