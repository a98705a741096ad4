using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.TestSupport;

/// <summary>
/// Many forward+backward calls rotating through the three losses, as a training loop makes them: the soak test in CI
/// and the benchmarks' long soak mode run this loop.
/// </summary>
public sealed class Soak : IDisposable
{
    private readonly Tensor query;
    private readonly Tensor doc;
    private readonly BiEncoderOutput output;
    private readonly RegularizationLossFunction[] losses = [new L1Regularization(), new L2Regularization(), new FlopsRegularization()];
    private long calls;

    /// <summary>SPLADE-like queries and documents over a vocabulary of 2,048 terms.</summary>
    public Soak(long queries = 32, long documents = 64, long vocabulary = 2048)
    {
        query = SpladeLike.Embeddings(queries, 1, vocabulary);
        doc = SpladeLike.Embeddings(documents, 1, vocabulary);
        output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
    }

    /// <summary>The resident memory of this process, in bytes.</summary>
    public static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>Runs <paramref name="count"/> more forward+backward calls, each in its own dispose scope.</summary>
    public void Run(long count)
    {
        for (long i = 0; i < count; i++, calls++)
        {
            using (var scope = NewDisposeScope())
            {
                losses[calls % losses.Length].ComputeLoss(output).backward();
            }

            query.grad = null;
            doc.grad = null;
        }
    }

    public void Dispose()
    {
        query.Dispose();
        doc.Dispose();
    }
}
