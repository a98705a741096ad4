using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>The regularization a model is trained with.</summary>
public enum Regularization
{
    /// <summary>Not trained: the encoder's start, BM25's weights in an impact index.</summary>
    Untrained,

    /// <summary>FLOPS (Paria et al., 2020), as in SPLADE.</summary>
    Flops,

    /// <summary>DF-FLOPS (Porco et al., 2025): FLOPS with each term's penalty weighted by its document frequency.</summary>
    DfFlops,
}

/// <summary>One model of the comparison: its regularizer, and whether sparsity budgets or fixed weights set λ.</summary>
public sealed record ModelPlan(string Name, Regularization Regularization, bool Budgeted);

/// <summary>How the models are trained.</summary>
public sealed record TrainingSettings(
    int Steps,
    int BatchSize,
    int HiddenSize,
    double LearningRate,
    double QueryWeight,
    double DocWeight,
    double WarmupRatio,
    int FrequencyEvery,
    double FrequencyScale,
    double Alpha,
    double Beta,
    int Seed,
    double QueryL0,
    double DocL0);

/// <summary>A budgeted model's state after one step: the sparsity measured on the batch, the targets and λ.</summary>
public sealed record BudgetStep(int Step, double QueryL0, double QueryTarget, double DocL0, double DocTarget, double QueryWeight, double DocWeight);

/// <summary>
/// Trains the encoder on (synopsis, description) pairs with a contrastive loss over in-batch and BM25-mined hard
/// negatives, as SPLADE and Tevatron train.
/// </summary>
public static class Training
{
    private const int EncodeChunk = 256;

    /// <summary>
    /// Trains one model from the seed's initial weights (the same for every plan; an untrained plan returns them).
    /// Each query is scored against every document of the batch: the positives of all queries and one hard negative per
    /// query, drawn from its BM25 top 20 without its positive. Fixed weights warm up quadratically over the warmup
    /// fraction; budgets start from λ = 1e-3 and warm their targets up over the same fraction (the recommended recipe).
    /// DF-FLOPS re-estimates document frequencies every <see cref="TrainingSettings.FrequencyEvery"/> steps.
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
        manual_seed(settings.Seed);
        var encoder = new ExpansionEncoder(corpus.VocabularySize, settings.HiddenSize);
        encoder.to(device);
        if (plan.Regularization == Regularization.Untrained)
        {
            return encoder;
        }

        var warmup = (long)(settings.Steps * settings.WarmupRatio);
        var scale = plan.Regularization == Regularization.DfFlops && !plan.Budgeted ? settings.FrequencyScale : 1;
        var flops = plan.Budgeted
            ? new FlopsRegularization(1e-3, 1e-3)
            : new FlopsRegularization(settings.QueryWeight * scale, settings.DocWeight * scale);
        var budget = plan.Budgeted ? new SparsityBudget(flops, settings.QueryL0, settings.DocL0, warmupSteps: warmup) : null;
        var schedule = plan.Budgeted ? null : new ConstantSchedulerWithQuadraticWarmup(flops, warmup);
        var objective = budget is null ? new TrainingObjective("ContrastiveLoss").Add(flops) : new TrainingObjective("ContrastiveLoss").Add(budget);
        // The per-term factors and BM25's k1 and b learn at the full rate; the embeddings and context layers, which every
        // term shares, 30 times slower, so that they refine BM25 instead of overwriting it (tuned on the validation queries).
        var optimizers = new List<optim.Optimizer>
        {
            optim.Adam(encoder.FactorParameters, settings.LearningRate),
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
                var documents = targets.Concat(targets.Select(t => negatives.Draw(t, random))).ToArray();
                using var queryBatch = corpus.QueryBatch(targets, device);
                using var documentBatch = corpus.DocumentBatch(documents, device);
                var queries = encoder.EncodeQueries(queryBatch);
                var docs = encoder.EncodeDocuments(documentBatch);
                var output = new BiEncoderOutput(QueryEmbeddings: new(queries.unsqueeze(1)), DocEmbeddings: new(docs.unsqueeze(1)));
                // The budget measures the positives alone: BM25's hard negatives are longer than the collection's average
                // document, and the budget is for the index, which holds the collection.
                budget?.Update(new BiEncoderOutput(QueryEmbeddings: output.QueryEmbeddings, DocEmbeddings: new(docs.narrow(0, 0, targets.Length).unsqueeze(1))));
                // Only the queries' own terms score, so the dot products need those columns alone.
                var columns = queryBatch.Terms.unique().Item1;
                var scores = queries.index_select(1, columns).matmul(docs.index_select(1, columns).T);
                var ranking = nn.functional.cross_entropy(scores, arange(targets.Length, device: device));

                var result = objective.Compute(ranking, output);
                optimizers.ForEach(o => o.zero_grad());
                result.Loss.backward();
                optimizers.ForEach(o => o.step());
                if (budget is not null)
                {
                    trace.Add(new BudgetStep(
                        step, budget.MeasuredQueryL0 ?? 0, budget.CurrentQueryL0Target ?? 0, budget.MeasuredDocL0 ?? 0, budget.CurrentDocL0Target ?? 0, flops.QueryWeight, flops.DocWeight));
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

    /// <summary>Encodes documents (or, with <paramref name="queries"/>, their synopses) into host-side sparse vectors.</summary>
    public static SparseVector[] Encode(ExpansionEncoder encoder, KnownItemCorpus corpus, IReadOnlyList<int> documents, bool queries, Device device, Action<int>? onDone = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(documents);
        var vectors = new SparseVector[documents.Count];
        using var noGrad = no_grad();
        for (var start = 0; start < documents.Count; start += EncodeChunk)
        {
            using var scope = NewDisposeScope();
            var chunk = documents.Skip(start).Take(EncodeChunk).ToArray();
            using var batch = queries ? corpus.QueryBatch(chunk, device) : corpus.DocumentBatch(chunk, device);
            var dense = queries ? encoder.EncodeQueries(batch) : encoder.EncodeDocuments(batch);
            // Only the non-zero entries go to the host: their positions (row-major, as nonzero lists them) and values.
            var positions = dense.nonzero();
            var values = dense.flatten().index_select(0, positions[.., 0].mul(dense.shape[1]).add(positions[.., 1]));
            positions = positions.cpu();
            var rows = positions[.., 0].data<long>().ToArray();
            var terms = positions[.., 1].data<long>().ToArray();
            var weights = values.cpu().data<float>().ToArray();
            var n = 0;
            for (var r = 0; r < chunk.Length; r++)
            {
                var first = n;
                while (n < rows.Length && rows[n] == r)
                {
                    n++;
                }

                vectors[start + r] = new SparseVector(terms[first..n].Select(t => (int)t).ToArray(), weights[first..n]);
            }

            onDone?.Invoke(start + chunk.Length);
        }

        return vectors;
    }

    private static void SetTermWeights(FlopsRegularization flops, DocumentFrequencyEstimator estimator, ExpansionEncoder encoder, KnownItemCorpus corpus, TrainingSettings settings, Device device)
    {
        using var noGrad = no_grad();
        estimator.Reset();
        for (var start = 0; start < corpus.FrequencySample.Length; start += EncodeChunk)
        {
            using var scope = NewDisposeScope();
            using var batch = corpus.DocumentBatch(corpus.FrequencySample.Skip(start).Take(EncodeChunk).ToArray(), device);
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

/// <summary>A text's non-zero term weights, term ids ascending.</summary>
public sealed record SparseVector(int[] Terms, float[] Weights);

/// <summary>For each training target, the top documents BM25 ranks for its synopsis, the target itself left out.</summary>
public sealed class HardNegatives
{
    private readonly Dictionary<int, int[]> ranked;
    private readonly int documentCount;

    private HardNegatives(Dictionary<int, int[]> ranked, int documentCount)
    {
        this.ranked = ranked;
        this.documentCount = documentCount;
    }

    /// <summary>Searches the BM25 index for every training query (one thread).</summary>
    public static HardNegatives Mine(SearchIndex bm25, KnownItemCorpus corpus, int depth, Action<int> onQuery)
    {
        ArgumentNullException.ThrowIfNull(bm25);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(onQuery);
        var ranked = new Dictionary<int, int[]>(corpus.TrainingTargets.Length);
        for (var i = 0; i < corpus.TrainingTargets.Length; i++)
        {
            var target = corpus.TrainingTargets[i];
            var hits = bm25.Search(SearchIndex.Bm25Query(corpus.Documents[target].Synopsis), depth + 1);
            ranked[target] = hits.Where(h => h != target).Take(depth).ToArray();
            onQuery(i + 1);
        }

        return new HardNegatives(ranked, corpus.Documents.Count);
    }

    /// <summary>One of the target's hard negatives, or a random other document of the collection when BM25 found none.</summary>
    public int Draw(int target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var candidates = ranked[target];
        if (candidates.Length > 0)
        {
            return candidates[random.Next(candidates.Length)];
        }

        var other = random.Next(documentCount - 1);
        return other >= target ? other + 1 : other;
    }
}
