using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

using SampleSupport;

namespace PackageSearch;

/// <summary>The regularization a model is trained with.</summary>
public enum Regularization
{
    /// <summary>The contrastive loss alone.</summary>
    None,

    /// <summary>Plus FLOPS (Paria et al., 2020), as in SPLADE.</summary>
    Flops,

    /// <summary>Plus DF-FLOPS (Porco et al., 2025): FLOPS with each term's penalty weighted by its document frequency.</summary>
    DfFlops,
}

/// <summary>How the three models are trained.</summary>
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
    int Seed);

/// <summary>Trains the sparse encoder on the package descriptions with the in-batch contrastive loss.</summary>
public static class Training
{
    private const int EncodeChunk = 256;

    /// <summary>
    /// Trains one model from the seed's initial weights (the same for every setting) and returns it. DF-FLOPS
    /// re-estimates the document frequencies every <see cref="TrainingSettings.FrequencyEvery"/> steps from the current
    /// model's vectors of the held-out frequency sample and weights both sides' penalties with activ(DF / |C|; α, β).
    /// </summary>
    public static ExpansionEncoder Train(KnownItemCorpus corpus, TrainingSettings settings, Regularization regularization, Device device, Action<int, IReadOnlyDictionary<string, double>> onStep)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(onStep);
        manual_seed(settings.Seed);
        var encoder = new ExpansionEncoder(corpus.VocabularySize, settings.HiddenSize);
        encoder.to(device);
        using var optimizer = optim.Adam(encoder.parameters(), settings.LearningRate);
        var objective = new TrainingObjective("ContrastiveLoss");
        FlopsRegularization? flops = null;
        RegularizationWeightScheduler? schedule = null;
        if (regularization != Regularization.None)
        {
            var scale = regularization == Regularization.DfFlops ? settings.FrequencyScale : 1;
            flops = new FlopsRegularization(settings.QueryWeight * scale, settings.DocWeight * scale);
            objective.Add(flops);
            schedule = ConstantSchedulerWithQuadraticWarmup.FromWarmupRatio(flops, settings.Steps, settings.WarmupRatio);
        }

        using var estimator = new DocumentFrequencyEstimator();
        var random = new Random(settings.Seed + 1);
        try
        {
            for (var step = 1; step <= settings.Steps; step++)
            {
                if (regularization == Regularization.DfFlops && (step - 1) % settings.FrequencyEvery == 0)
                {
                    SetTermWeights(flops!, estimator, encoder, corpus, settings, device);
                }

                schedule?.Step(step);
                using var scope = NewDisposeScope();
                var targets = corpus.TrainingBatch(settings.BatchSize, random);
                optimizer.zero_grad();
                var values = ContrastiveStep.Backward(
                    encoder, corpus.QueryBatch(targets, encoder.PaddingId, device), corpus.DocumentBatch(targets, encoder.PaddingId, device), objective);
                optimizer.step();
                onStep(step, values);
            }
        }
        finally
        {
            schedule?.Restore();
            flops?.DocTermWeights?.Dispose();
        }

        return encoder;
    }

    /// <summary>Encodes documents (or, with <paramref name="queries"/>, their synopses) into host-side sparse vectors.</summary>
    public static SparseVector[] Encode(ExpansionEncoder encoder, KnownItemCorpus corpus, IReadOnlyList<int> documents, bool queries, Device device)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(documents);
        var vectors = new SparseVector[documents.Count];
        using var noGrad = no_grad();
        encoder.eval();
        for (var start = 0; start < documents.Count; start += EncodeChunk)
        {
            using var scope = NewDisposeScope();
            var chunk = documents.Skip(start).Take(EncodeChunk).ToArray();
            var tokens = queries ? corpus.QueryBatch(chunk, encoder.PaddingId, device) : corpus.DocumentBatch(chunk, encoder.PaddingId, device);
            var weights = encoder.call(tokens).squeeze(1).cpu();
            var data = weights.data<float>().ToArray();
            var width = (int)weights.shape[1];
            for (var r = 0; r < chunk.Length; r++)
            {
                vectors[start + r] = SparseVector.FromDense(data.AsSpan(r * width, width));
            }
        }

        encoder.train();
        return vectors;
    }

    private static void SetTermWeights(FlopsRegularization flops, DocumentFrequencyEstimator estimator, ExpansionEncoder encoder, KnownItemCorpus corpus, TrainingSettings settings, Device device)
    {
        using var noGrad = no_grad();
        encoder.eval();
        estimator.Reset();
        for (var start = 0; start < corpus.FrequencySample.Length; start += EncodeChunk)
        {
            using var scope = NewDisposeScope();
            estimator.Add(encoder.call(corpus.DocumentBatch(corpus.FrequencySample.Skip(start).Take(EncodeChunk), encoder.PaddingId, device)));
        }

        encoder.train();
        using var fractions = estimator.Fractions();
        var weights = TermWeighting.DocumentFrequencyWeights(fractions, settings.Alpha, settings.Beta).DetachFromDisposeScope();
        var old = flops.DocTermWeights;
        flops.DocTermWeights = weights;
        flops.QueryTermWeights = weights;
        old?.Dispose();
    }
}

/// <summary>A text's non-zero term weights, term ids ascending.</summary>
public sealed record SparseVector(int[] Terms, float[] Weights)
{
    /// <summary>The non-zero entries of a dense vector.</summary>
    public static SparseVector FromDense(ReadOnlySpan<float> dense)
    {
        var terms = new List<int>();
        var weights = new List<float>();
        for (var j = 0; j < dense.Length; j++)
        {
            if (dense[j] != 0)
            {
                terms.Add(j);
                weights.Add(dense[j]);
            }
        }

        return new SparseVector([.. terms], [.. weights]);
    }
}
