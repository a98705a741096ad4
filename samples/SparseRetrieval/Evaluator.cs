using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>Ranks the whole collection for the held-out queries and measures sparsity.</summary>
public static class Evaluator
{
    private const int Chunk = 250;

    public static Evaluation Evaluate(string run, int step, SparseEncoder encoder, SyntheticCorpus data, Device device, double trainingLoss, double queryWeight, double docWeight)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        encoder.eval();
        var chunks = tensor(data.Documents, device: device).split(Chunk).Select(tokens => encoder.call(tokens).squeeze(1)).ToList();
        var docs = cat(chunks, 0);                                            // [documents, vocab]
        var queries = encoder.call(tensor(data.EvaluationQueries, device: device)).squeeze(1); // [queries, vocab]
        var top = queries.matmul(docs.T).topk(10, dim: 1).indexes.cpu().data<long>().ToArray();
        var reciprocalRanks = 0.0;
        for (var q = 0; q < data.EvaluationTargets.Length; q++)
        {
            for (var rank = 0; rank < 10; rank++)
            {
                if (top[(q * 10) + rank] == data.EvaluationTargets[q])
                {
                    reciprocalRanks += 1.0 / (rank + 1);
                    break;
                }
            }
        }

        encoder.train();
        return new Evaluation(
            run,
            step,
            reciprocalRanks / data.EvaluationTargets.Length,
            SparsityMetrics.L0(queries),
            SparsityMetrics.L0(docs),
            SparsityMetrics.Flops(queries, docs),
            trainingLoss,
            queryWeight,
            docWeight);
    }
}
