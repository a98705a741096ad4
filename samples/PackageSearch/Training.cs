using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// Trains the encoder on (synopsis, description) pairs with a contrastive loss over in-batch and BM25-mined hard
/// negatives, as SPLADE and Tevatron train.
/// </summary>
public static class Training
{
    /// <summary>
    /// Trains one model from the seed's initial weights (the same for every plan; an untrained plan returns them).
    /// Each query is scored against every document of the batch: the positives of all queries and
    /// <see cref="TrainingSettings.HardNegatives"/> hard negatives per query, drawn from its BM25 top 20 without its
    /// positive. Fixed weights warm up quadratically over the warmup fraction (λ = 0 for the unregularized plan). A budgeted plan's <c>SparsityBudget</c> starts from λ = 1e-3 with the
    /// library's defaults, steering λd to the plan's document budget (and λq to the query budget, when one is set), or
    /// λq and λd together to its FLOPS budget, the postings a query visits as a fraction of the documents. DF-FLOPS
    /// re-estimates document frequencies every <see cref="TrainingSettings.FrequencyEvery"/> steps.
    /// </summary>
    public static ExpansionEncoder Train(
        KnownItemCorpus corpus, HardNegatives negatives, TrainingSettings settings, ModelPlan plan, Device device, Action<int> onStep, List<BudgetStep> trace)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(negatives);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(onStep);
        ArgumentNullException.ThrowIfNull(trace);
        if (plan.CostOfBm25 is not null && plan.FlopsBudget is null)
        {
            throw new ArgumentException($"{plan.Name} states its FLOPS budget relative to BM25's cost: resolve the plan with ModelPlan.Resolve first.", nameof(plan));
        }

        manual_seed(settings.Seed);
        var encoder = new ExpansionEncoder(corpus.VocabularySize, settings.HiddenSize, settings.ContextualQueries);
        encoder.to(device);
        if (plan.Regularization == Regularization.Untrained)
        {
            return encoder;
        }

        var warmup = (long)(settings.Steps * settings.WarmupRatio);
        var scale = plan.Regularization == Regularization.DfFlops && !plan.Budgeted ? settings.FrequencyScale : 1;
        var flops = plan.Regularization == Regularization.Unregularized ? new FlopsRegularization(0, 0)
            : plan.Budgeted ? new FlopsRegularization(1e-3, 1e-3)
            : new FlopsRegularization(settings.QueryWeight * scale, settings.DocWeight * scale);
        var budget = plan.DocL0Budget is double docL0 ? new SparsityBudget(flops, settings.QueryL0, docL0)
            : plan.FlopsBudget is double cost ? new SparsityBudget(flops, flops: cost)
            : null;
        var schedule = plan.Budgeted ? null : new ConstantSchedulerWithQuadraticWarmup(flops, warmup);
        var objective = budget is null ? new TrainingObjective("ContrastiveLoss").Add(flops) : new TrainingObjective("ContrastiveLoss").Add(budget);
        // The per-term factors and BM25's k1 and b learn at the full rate; the embeddings and context layers, which every
        // term shares, 30 times slower, so that they refine BM25 instead of overwriting it (tuned on the validation queries).
        // The expansion head learns at the full rate too: its output embeddings start at 0 and must grow for the
        // head to expand at all.
        var optimizers = new List<optim.Optimizer>
        {
            optim.Adam(encoder.FactorParameters.Concat(encoder.ExpansionParameters), settings.LearningRate),
            optim.Adam(encoder.ContextParameters, settings.LearningRate / 30),
        };
        using var estimator = new DocumentFrequencyEstimator();
        var random = new Random(settings.Seed + 1);
        try
        {
            for (var step = 1; step <= settings.Steps; step++)
            {
                if (plan.Regularization == Regularization.DfFlops && (step - 1) % settings.FrequencyEvery == 0)
                {
                    SetTermWeights(flops, estimator, encoder, corpus, settings, device);
                }

                schedule?.Step(step);
                using var scope = NewDisposeScope();
                var targets = corpus.TrainingBatch(settings.BatchSize, random);
                var documents = targets.Concat(Enumerable.Range(0, settings.HardNegatives).SelectMany(_ => targets.Select(t => negatives.Draw(t, random)))).ToArray();
                using var queryBatch = corpus.QueryBatch(targets, device);
                using var documentBatch = corpus.DocumentBatch(documents, device);
                var queries = encoder.EncodeQueries(queryBatch);
                var (lexical, expansion) = encoder.EncodeDocumentParts(documentBatch);
                var docs = lexical.add(expansion);
                var output = new BiEncoderOutput(QueryEmbeddings: new(queries.unsqueeze(1)), DocEmbeddings: new(docs.unsqueeze(1)));
                // What pays the document penalty: the expansion head's output alone (the documents' own terms are what
                // BM25's index holds anyway), or with PenalizeOwnTerms the whole document vector.
                var penalized = settings.PenalizeOwnTerms ? output : output with { DocEmbeddings = new(expansion.unsqueeze(1)) };
                // The budget measures the positives alone: BM25's hard negatives are longer than the collection's average
                // document, and the budget is for the index, which holds the collection. (A FLOPS budget measures these
                // queries against the previous batch's documents by itself.)
                var positives = docs.narrow(0, 0, targets.Length);
                budget?.Update(new BiEncoderOutput(QueryEmbeddings: output.QueryEmbeddings, DocEmbeddings: new(positives.unsqueeze(1))));

                // Only the queries' own terms score, so the dot products need those columns alone.
                var columns = queryBatch.Terms.unique().Item1;
                var scores = queries.index_select(1, columns).matmul(docs.index_select(1, columns).T);
                var ranking = nn.functional.cross_entropy(scores, arange(targets.Length, device: device));

                var result = objective.Compute(ranking, penalized);
                optimizers.ForEach(o => o.zero_grad());
                result.Loss.backward();
                optimizers.ForEach(o => o.step());
                if (budget is not null)
                {
                    trace.Add(new BudgetStep(
                        step,
                        budget.MeasuredQueryL0 ?? 0,
                        budget.CurrentQueryL0Target ?? 0,
                        budget.MeasuredDocL0 ?? 0,
                        budget.CurrentDocL0Target ?? 0,
                        budget.MeasuredFlops ?? 0,
                        budget.CurrentFlopsTarget ?? 0,
                        flops.QueryWeight,
                        flops.DocWeight,
                        budget.Status));
                }

                onStep(step);
            }
        }
        finally
        {
            flops.DocTermWeights?.Dispose();
            optimizers.ForEach(o => o.Dispose());
        }

        return encoder;
    }

    private static void SetTermWeights(FlopsRegularization flops, DocumentFrequencyEstimator estimator, ExpansionEncoder encoder, KnownItemCorpus corpus, TrainingSettings settings, Device device)
    {
        using var noGrad = no_grad();
        estimator.Reset();
        for (var start = 0; start < corpus.FrequencySample.Length; start += CollectionEncoding.Chunk)
        {
            using var scope = NewDisposeScope();
            using var batch = corpus.DocumentBatch(corpus.FrequencySample.Skip(start).Take(CollectionEncoding.Chunk).ToArray(), device);
            estimator.Add(encoder.EncodeDocuments(batch));
        }

        using var fractions = estimator.Fractions();
        var weights = TermWeighting.DocumentFrequencyWeights(fractions, settings.Alpha, settings.Beta).DetachFromDisposeScope();
        var old = flops.DocTermWeights;
        flops.DocTermWeights = weights;
        flops.QueryTermWeights = weights;
        old?.Dispose();
    }
}

/// <summary>A budgeted model's state after one step: the sparsity measured on the batch, the targets and λ (0 where a figure has no budget).</summary>
/// <param name="Step">The training step.</param>
/// <param name="QueryL0">The batch's query L0 (mean terms per query).</param>
/// <param name="QueryTarget">The query level the budget steered to.</param>
/// <param name="DocL0">The batch positives' document L0 (mean terms per document).</param>
/// <param name="DocTarget">The document level the budget steered to.</param>
/// <param name="Flops">The batch's FLOPS figure: its queries against the previous batch's positives (its own at the first step), Σⱼ pⱼ(q)·pⱼ(d).</param>
/// <param name="FlopsTarget">The FLOPS level the budget steered to.</param>
/// <param name="QueryWeight">λq after the update.</param>
/// <param name="DocWeight">λd after the update.</param>
/// <param name="Status">The budget's status after the update.</param>
public sealed record BudgetStep(
    int Step,
    double QueryL0,
    double QueryTarget,
    double DocL0,
    double DocTarget,
    double Flops,
    double FlopsTarget,
    double QueryWeight,
    double DocWeight,
    LightningIr.Regularization.SparsityBudgetStatus Status);
