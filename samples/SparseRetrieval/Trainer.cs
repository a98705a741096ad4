using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>One evaluation of a run: retrieval quality and sparsity at a training step.</summary>
public sealed record Evaluation(string Run, int Step, double Mrr10, double QueryL0, double DocL0, double Flops, double TrainingLoss, double QueryWeight, double DocWeight);

/// <summary>A budget's state after one training step: what it measured, what it aimed at and the weights it set.</summary>
public sealed record BudgetTrace(int Step, double? DocL0, double? DocTarget, double? QueryL0, double? QueryTarget, double QueryWeight, double DocWeight);

/// <summary>What one run regularizes: nothing, fixed weights under a warmup, or a sparsity budget brought in by a recipe.</summary>
public sealed record RunPlan(string Name, bool Regularized, double? DocL0 = null, double? QueryL0 = null, BudgetRecipe Recipe = BudgetRecipe.TargetWarmup)
{
    public bool Budgeted => DocL0 is not null || QueryL0 is not null;
}

/// <summary>A run's evaluations and, for a budgeted run, its budget's trace.</summary>
public sealed record RunResult(RunPlan Plan, List<Evaluation> Evaluations, List<BudgetTrace> Trace);

/// <summary>Trains the sparse encoder with an in-batch contrastive loss, optionally plus FLOPS regularization.</summary>
public static class Trainer
{
    /// <summary>The weight a budget starts from, unless it takes over after a weight warmup.</summary>
    public const double BudgetStartWeight = 1e-3;

    /// <summary>
    /// Trains one encoder from the same initial weights as every other run with this seed, reporting an
    /// evaluation at step 0, every <see cref="SampleOptions.EvaluateEvery"/> steps and at the end.
    /// </summary>
    public static RunResult Run(RunPlan plan, SyntheticCorpus data, SampleOptions options, Action<int> onStep, Action<Evaluation> onEvaluation)
    {
        var name = plan.Name;
        // A budget finds λ itself: it starts small (its update does not depend on the scale it starts from), except after a
        // weight warmup, where it takes over from the scheduled λ.
        var startsSmall = plan.Budgeted && plan.Recipe != BudgetRecipe.WeightWarmup;
        var flops = plan.Regularized
            ? new FlopsRegularization(
                startsSmall && plan.QueryL0 is not null ? BudgetStartWeight : options.QueryWeight,
                startsSmall && plan.DocL0 is not null ? BudgetStartWeight : options.DocWeight)
            : null;
        var device = torch.device(options.Device);
        manual_seed(options.Seed);
        using var encoder = new SparseEncoder(data.VocabularySize, options.HiddenSize);
        encoder.to(device);
        using var optimizer = optim.Adam(encoder.parameters(), options.LearningRate);
        var objective = new TrainingObjective("ContrastiveLoss");
        RegularizationWeightScheduler? schedule = null;
        SparsityBudget? budget = null;
        var budgetFrom = 1L;
        if (flops is not null && plan.Budgeted)
        {
            budget = new SparsityBudget(
                flops, plan.QueryL0, plan.DocL0, warmupSteps: plan.Recipe == BudgetRecipe.TargetWarmup ? options.WarmupSteps : 0);
            objective.Add(budget);
        }
        else if (flops is not null)
        {
            objective.Add(flops);
        }

        if (flops is not null && (!plan.Budgeted || plan.Recipe == BudgetRecipe.WeightWarmup))
        {
            // SPLADE's quadratic warmup: λ grows as (step / warmup)² from 0, so FLOPS does not empty the
            // vectors before the ranking loss has shaped them. With a budget, the budget takes over afterwards.
            schedule = ConstantSchedulerWithQuadraticWarmup.FromWarmupRatio(flops, options.Steps, options.WarmupRatio);
            budgetFrom = schedule.NumWarmupSteps + 1;
        }

        var trace = new List<BudgetTrace>();
        var random = new Random(options.Seed + 2);
        var evaluations = new List<Evaluation>();
        var lastLoss = double.NaN;
        void Evaluate(int step, double queryWeight, double docWeight)
        {
            var evaluation = Evaluator.Evaluate(name, step, encoder, data, device, lastLoss, queryWeight, docWeight);
            evaluations.Add(evaluation);
            onEvaluation(evaluation);
        }

        Evaluate(0, 0, 0);
        using var labels = arange(options.BatchSize, device: device);
        for (var step = 1; step <= options.Steps; step++)
        {
            var budgetNow = step >= budgetFrom ? budget : null;
            if (budgetNow is null)
            {
                schedule?.Step(step);
            }

            using (var scope = NewDisposeScope())
            {
                var (queryTokens, docTokens) = data.TrainingBatch(options.BatchSize, random);
                var queries = tensor(queryTokens, device: device);
                var docs = tensor(docTokens, device: device);
                optimizer.zero_grad();
                lastLoss = options.Accumulates
                    ? AccumulateGradients(encoder, queries, docs, labels, flops, budgetNow, options)
                    : ContrastiveStep.Backward(encoder, queries, docs, objective, budgetNow)["loss"];
                optimizer.step();
            }

            if (budget is not null)
            {
                trace.Add(new BudgetTrace(
                    step, budget.MeasuredDocL0, budget.CurrentDocL0Target, budget.MeasuredQueryL0, budget.CurrentQueryL0Target, flops!.QueryWeight, flops.DocWeight));
            }

            onStep(step);
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
            {
                Evaluate(step, flops?.QueryWeight ?? 0, flops?.DocWeight ?? 0);
            }
        }

        if (budget is null)
        {
            schedule?.Restore();
        }

        return new RunResult(plan, evaluations, trace);
    }

    /// <summary>
    /// Gradient accumulation over micro-batches that gives the whole batch's gradient. The in-batch contrastive loss
    /// needs every embedding of the batch, so a first pass encodes the micro-batches without a graph and caches their
    /// embeddings (GradCache, Gao et al., 2021), from which the ranking loss's embedding gradients are computed; it also
    /// collects the regularizer's statistics. A second pass re-encodes each micro-batch with a graph and back-propagates
    /// the cached gradients plus the micro-batch's regularization: its exact share of the whole batch's, or (per part)
    /// its own regularizer divided by the number of micro-batches. A budget is updated once per step from the summed
    /// measurements of the micro-batches (or, per part, from the first micro-batch alone, as a per-part regularizer sees it).
    /// </summary>
    private static double AccumulateGradients(
        SparseEncoder encoder, Tensor queryTokens, Tensor docTokens, Tensor labels, FlopsRegularization? flops, SparsityBudget? budget, SampleOptions options)
    {
        var micro = options.MicroBatch!.Value;
        var queryParts = queryTokens.split(micro);
        var docParts = docTokens.split(micro);
        var cachedQueries = new List<Tensor>();
        var cachedDocs = new List<Tensor>();
        var statistics = new List<RegularizationStatistics>();
        var measurements = new List<SparsityMeasurement>();
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

                if (budget is not null && (options.Split == RegularizationSplit.Exact || i == 0))
                {
                    measurements.Add(budget.Measure(Output(cachedQueries[i], cachedDocs[i])));
                }
            }
        }

        if (budget is not null)
        {
            budget.Update(SparsityMeasurement.Sum(measurements));
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
