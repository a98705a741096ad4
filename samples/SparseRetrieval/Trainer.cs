using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>How the regularizer treats a batch that is split into micro-batches.</summary>
public enum RegularizationSplit
{
    /// <summary>Each micro-batch adds its exact share of the whole batch's regularizer (LightningIr.Regularization's split-batch statistics).</summary>
    Exact,

    /// <summary>Each micro-batch regularizes itself and the results are averaged, as other frameworks do with gradient accumulation.</summary>
    PerPart,
}

/// <summary>The settings of one sample run.</summary>
public sealed record SampleOptions(
    int Steps,
    double QueryWeight,
    double DocWeight,
    double WarmupRatio,
    int Seed,
    string Output,
    int EvaluateEvery,
    int BatchSize = 32,
    int? MicroBatch = null,
    RegularizationSplit Split = RegularizationSplit.Exact,
    string Device = "cpu",
    int HiddenSize = 48,
    double LearningRate = 5e-3)
{
    /// <summary>Whether each batch is processed in micro-batches (gradient accumulation).</summary>
    public bool Accumulates => MicroBatch is int micro && micro < BatchSize;
}

/// <summary>One evaluation of a run: retrieval quality and sparsity at a training step.</summary>
public sealed record Evaluation(string Run, int Step, double Mrr10, double QueryL0, double DocL0, double Flops, double TrainingLoss, double RegularizerWeight);

/// <summary>Trains the sparse encoder with an in-batch contrastive loss, optionally plus FLOPS regularization.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains one encoder from the same initial weights as every other run with this seed, reporting an
    /// evaluation at step 0, every <see cref="SampleOptions.EvaluateEvery"/> steps and at the end.
    /// </summary>
    public static List<Evaluation> Run(
        string name, SyntheticCorpus data, SampleOptions options, FlopsRegularization? flops, Action<int> onStep, Action<Evaluation> onEvaluation)
    {
        var device = torch.device(options.Device);
        manual_seed(options.Seed);
        using var encoder = new SparseEncoder(data.VocabularySize, options.HiddenSize);
        encoder.to(device);
        using var optimizer = optim.Adam(encoder.parameters(), options.LearningRate);
        var objective = new TrainingObjective("ContrastiveLoss");
        RegularizationWeightScheduler? schedule = null;
        if (flops is not null)
        {
            objective.Add(flops);
            // SPLADE's quadratic warmup: λ grows as (step / warmup)² from 0, so FLOPS does not empty the
            // vectors before the ranking loss has shaped them.
            schedule = ConstantSchedulerWithQuadraticWarmup.FromWarmupRatio(flops, options.Steps, options.WarmupRatio);
        }

        var random = new Random(options.Seed + 2);
        var evaluations = new List<Evaluation>();
        var lastLoss = double.NaN;
        void Evaluate(int step, double weight)
        {
            var evaluation = Evaluator.Evaluate(name, step, encoder, data, device, lastLoss, weight);
            evaluations.Add(evaluation);
            onEvaluation(evaluation);
        }

        Evaluate(0, 0);
        using var labels = arange(options.BatchSize, device: device);
        for (var step = 1; step <= options.Steps; step++)
        {
            schedule?.Step(step);
            using (var scope = NewDisposeScope())
            {
                var (queryTokens, docTokens) = data.TrainingBatch(options.BatchSize, random);
                var queries = tensor(queryTokens, device: device);
                var docs = tensor(docTokens, device: device);
                optimizer.zero_grad();
                lastLoss = options.Accumulates
                    ? AccumulateGradients(encoder, queries, docs, labels, flops, options)
                    : ContrastiveStep.Backward(encoder, queries, docs, objective)["loss"];
                optimizer.step();
            }

            onStep(step);
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
            {
                Evaluate(step, flops?.DocWeight ?? 0);
            }
        }

        schedule?.Restore();
        return evaluations;
    }

    /// <summary>
    /// Gradient accumulation over micro-batches that gives the whole batch's gradient. The in-batch contrastive loss
    /// needs every embedding of the batch, so a first pass encodes the micro-batches without a graph and caches their
    /// embeddings (GradCache, Gao et al., 2021), from which the ranking loss's embedding gradients are computed; it also
    /// collects the regularizer's statistics. A second pass re-encodes each micro-batch with a graph and back-propagates
    /// the cached gradients plus the micro-batch's regularization: its exact share of the whole batch's, or (per part)
    /// its own regularizer divided by the number of micro-batches.
    /// </summary>
    private static double AccumulateGradients(
        SparseEncoder encoder, Tensor queryTokens, Tensor docTokens, Tensor labels, FlopsRegularization? flops, SampleOptions options)
    {
        var micro = options.MicroBatch!.Value;
        var queryParts = queryTokens.split(micro);
        var docParts = docTokens.split(micro);
        var cachedQueries = new List<Tensor>();
        var cachedDocs = new List<Tensor>();
        var statistics = new List<RegularizationStatistics>();
        using (no_grad())
        {
            for (var i = 0; i < queryParts.Length; i++)
            {
                cachedQueries.Add(encoder.call(queryParts[i]));
                cachedDocs.Add(encoder.call(docParts[i]));
                if (flops is not null && options.Split == RegularizationSplit.Exact)
                {
                    statistics.Add(flops.CollectStatistics(Output(cachedQueries[i], cachedDocs[i])));
                }
            }
        }

        var total = statistics.Count > 0 ? RegularizationStatistics.Sum(statistics) : null;
        var allQueries = cat(cachedQueries).requires_grad_();
        var allDocs = cat(cachedDocs).requires_grad_();
        var ranking = nn.functional.cross_entropy(allQueries.squeeze(1).matmul(allDocs.squeeze(1).T), labels);
        ranking.backward();
        var queryGradients = allQueries.grad!.split(micro);
        var docGradients = allDocs.grad!.split(micro);

        var objective = ranking.detach();
        for (var i = 0; i < queryParts.Length; i++)
        {
            var queries = encoder.call(queryParts[i]);
            var docs = encoder.call(docParts[i]);
            var surrogate = queries.mul(queryGradients[i]).sum().add(docs.mul(docGradients[i]).sum());
            if (flops is not null)
            {
                var regularization = total is not null
                    ? flops.ComputeLoss(Output(queries, docs), total)
                    : flops.ComputeLoss(Output(queries, docs)).div(queryParts.Length);
                surrogate = surrogate.add(regularization);
                objective = objective.add(regularization.detach());
            }

            surrogate.backward();
        }

        return objective.item<float>();
    }

    private static BiEncoderOutput Output(Tensor queries, Tensor docs) => new(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));
}
