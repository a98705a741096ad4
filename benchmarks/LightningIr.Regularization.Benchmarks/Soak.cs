using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// Runs many forward+backward calls across the three losses at SPLADE-like shapes and checks that no
/// tensor stays alive and that resident memory stays flat.
/// </summary>
public static class Soak
{
    public static int Run(long calls)
    {
        torch.set_num_threads(2);
        manual_seed(0);
        using var query = SpladeLike.Embeddings(32, 1, 2048);
        using var doc = SpladeLike.Embeddings(64, 1, 2048);
        var output = new BiEncoderOutput(QueryEmbeddings: new(query), DocEmbeddings: new(doc));
        RegularizationLossFunction[] losses = [new L1Regularization(), new L2Regularization(), new FlopsRegularization()];

        DisposeScopeManager.Statistics.Reset();
        long warmRss = 0;
        long maxRss = 0;
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < calls; i++)
        {
            using (var scope = NewDisposeScope())
            {
                losses[i % losses.Length].ComputeLoss(output).backward();
            }

            query.grad = null;
            doc.grad = null;
            if (i == calls / 10)
            {
                warmRss = Rss();
            }

            if (i > calls / 10 && i % 1000 == 0)
            {
                maxRss = Math.Max(maxRss, Rss());
            }

            if ((i + 1) % (calls / 10) == 0)
            {
                Console.WriteLine($"{i + 1,8} calls  live tensors {DisposeScopeManager.Statistics.ThreadTotalLiveCount,3}  RSS {Rss() / 1048576.0,8:F1} MiB  {clock.Elapsed.TotalSeconds,6:F1} s");
            }
        }

        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var growth = warmRss == 0 ? 0 : (double)(Math.Max(maxRss, Rss()) - warmRss) / warmRss;
        Console.WriteLine($"live tensors after {calls} calls: {live}; RSS growth after warm-up: {growth:P2}");
        return live == 0 && growth <= 0.05 ? 0 : 1;
    }

    private static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}
