using LightningIr.Regularization;
using SampleSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace DataParallelTraining;

/// <summary>How each process regularizes its shard of the global batch.</summary>
public enum ShardRegularization
{
    /// <summary>Each process adds its exact share of the global batch's FLOPS, from all-reduced statistics.</summary>
    Exact,

    /// <summary>Each process regularizes its own shard and the gradients are averaged, as DDP training elsewhere does.</summary>
    PerRank,
}

/// <summary>The settings of a data-parallel run.</summary>
/// <remarks>
/// <c>DocL0</c> is a document sparsity budget: the budget sets λd from the measurements (all-reduced in Exact mode); null
/// keeps λd fixed.
/// </remarks>
public sealed record TrainingOptions(
    int Steps, int BatchSize, int Negatives, double QueryWeight, double DocWeight, int Seed, double LearningRate = 0.5, int HiddenSize = 48, double? DocL0 = null);

/// <summary>One process's view of the world: its rank, the number of processes and the collective sum.</summary>
/// <param name="Rank">This process's index.</param>
/// <param name="Size">The number of processes.</param>
/// <param name="AllReduceSum">Sums a 1-D float64 tensor over every process (identity for one process).</param>
/// <param name="AllReduceGradients">Sums a 1-D float32 tensor over every process (identity for one process).</param>
public sealed record World(int Rank, int Size, Func<Tensor, Tensor> AllReduceSum, Func<Tensor, Tensor> AllReduceGradients)
{
    public static World OneProcess { get; } = new(0, 1, t => t, t => t);
}

/// <summary>What a run produced: the global objective and λd at each step, and the final parameters.</summary>
public sealed record TrainingResult(double[] Losses, double[] DocWeights, float[] Parameters, long StatisticsValuesPerStep);

/// <summary>
/// Trains the sample's SPLADE-style encoder data-parallel: every process draws the same global batch (same seed),
/// takes its shard, computes its share of the objective, and the gradients are summed across processes before the
/// same optimizer step everywhere. The ranking loss is each query's cross-entropy over its own group (its target
/// document and sampled negatives), summed and divided by the global batch size, so that it splits exactly.
/// </summary>
public static class DataParallelTrainer
{
    public static TrainingResult Train(SyntheticCorpus data, TrainingOptions options, World world, ShardRegularization mode)
    {
        if (options.BatchSize % world.Size != 0)
        {
            throw new ArgumentException($"The batch size {options.BatchSize} must be a multiple of the number of processes {world.Size}.", nameof(options));
        }

        manual_seed(options.Seed);
        using var encoder = new SparseEncoder(data.VocabularySize, options.HiddenSize);
        // SGD with momentum: Adam divides by the gradient's running magnitude, which turns float32 rounding noise on
        // near-zero gradients into full-size steps, so runs that differ only in summation order drift apart.
        using var optimizer = optim.SGD(encoder.parameters(), options.LearningRate, momentum: 0.9);
        // With a budget, the recommended recipe: λd starts small and the target warms up over the first third of the steps.
        var flops = new FlopsRegularization(options.QueryWeight, options.DocL0 is null ? options.DocWeight : 1e-3);
        var budget = options.DocL0 is double target ? new SparsityBudget(flops, docL0: target, warmupSteps: options.Steps / 3) : null;
        var docWeights = new double[options.Steps];
        var random = new Random(options.Seed + 2);
        var shard = options.BatchSize / world.Size;
        var groupSize = 1 + options.Negatives;
        var losses = new double[options.Steps];
        long statisticsValues = 0;
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (queryTokens, docTokens) = data.TrainingGroups(options.BatchSize, options.Negatives, random);
            var queries = encoder.call(tensor(queryTokens).narrow(0, world.Rank * shard, shard));                        // [shard, 1, V]
            var docs = encoder.call(tensor(docTokens).narrow(0, world.Rank * shard * groupSize, shard * groupSize));    // [shard·g, 1, V]
            var output = new BiEncoderOutput(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));

            if (budget is not null)
            {
                // Exact: every process measures its shard and all-reduces the counts, so all set the same λd as one
                // process would on the whole batch. PerRank: each process follows its own shard, as it regularizes it.
                var measurement = budget.Measure(output);
                budget.Update(mode == ShardRegularization.Exact ? measurement.AllReduce(world.AllReduceSum) : measurement);
            }

            docWeights[step] = flops.DocWeight;
            var scores = queries.mul(docs.view(shard, groupSize, -1)).sum([-1]);                 // [shard, g]
            var ranking = nn.functional.cross_entropy(scores, zeros(shard, dtype: ScalarType.Int64), reduction: nn.Reduction.Sum)
                .div(options.BatchSize);
            Tensor regularization;
            if (mode == ShardRegularization.Exact)
            {
                var total = flops.CollectStatistics(output).AllReduce(world.AllReduceSum);
                statisticsValues = total.Length;
                regularization = flops.ComputeLoss(output, total);
            }
            else
            {
                regularization = flops.ComputeLoss(output).div(world.Size);
            }

            var loss = ranking.add(regularization);
            optimizer.zero_grad();
            loss.backward();
            SumGradients(encoder, world);
            optimizer.step();
            losses[step] = world.AllReduceSum(loss.detach().to(ScalarType.Float64).reshape(1)).item<double>();
        }

        using var final = cat(encoder.parameters().Select(p => p.detach().flatten()).ToList());
        return new TrainingResult(losses, docWeights, final.data<float>().ToArray(), statisticsValues);
    }

    /// <summary>Sums every parameter's gradient across processes in one all-reduce.</summary>
    private static void SumGradients(SparseEncoder encoder, World world)
    {
        if (world.Size == 1)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var parameters = encoder.parameters().ToList();
        var summed = world.AllReduceGradients(cat(parameters.Select(p => p.grad!.flatten()).ToList()));
        long offset = 0;
        foreach (var parameter in parameters)
        {
            var count = parameter.numel();
            parameter.grad!.copy_(summed.narrow(0, offset, count).view_as(parameter.grad!));
            offset += count;
        }
    }
}
