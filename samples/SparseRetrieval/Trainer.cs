using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace SparseRetrieval;

/// <summary>The settings of one sample run.</summary>
public sealed record SampleOptions(int Steps, double QueryWeight, double DocWeight, double WarmupRatio, int Seed, string Output, int EvaluateEvery, int BatchSize = 32, int HiddenSize = 48, double LearningRate = 5e-3);

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
        manual_seed(options.Seed);
        using var encoder = new SparseEncoder(data.VocabularySize, options.HiddenSize);
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
        void Evaluate(int step)
        {
            var evaluation = Evaluator.Evaluate(name, step, encoder, data, lastLoss, flops?.DocWeight ?? 0);
            evaluations.Add(evaluation);
            onEvaluation(evaluation);
        }

        schedule?.Step(0);
        Evaluate(0);
        using var labels = arange(options.BatchSize);
        for (var step = 1; step <= options.Steps; step++)
        {
            schedule?.Step(step);
            using (var scope = NewDisposeScope())
            {
                var (queryTokens, docTokens) = data.TrainingBatch(options.BatchSize, random);
                var queries = encoder.call(tensor(queryTokens));
                var docs = encoder.call(tensor(docTokens));
                var output = new BiEncoderOutput(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));
                var scores = queries.squeeze(1).matmul(docs.squeeze(1).T);
                var ranking = nn.functional.cross_entropy(scores, labels);
                var result = objective.Compute(ranking, output);

                optimizer.zero_grad();
                result.Loss.backward();
                optimizer.step();
                lastLoss = result.Components["loss"];
            }

            onStep(step);
            if (step % options.EvaluateEvery == 0 || step == options.Steps)
            {
                Evaluate(step);
            }
        }

        schedule?.Restore();
        return evaluations;
    }
}
