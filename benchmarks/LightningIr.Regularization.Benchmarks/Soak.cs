using System.Diagnostics;
using LightningIr.Regularization.TestSupport;
using TorchSharp;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// The long soak (<c>-- soak [calls]</c>): the shared soak loop, with the live-tensor count and resident memory
/// printed at every tenth of the calls; fails if a tensor stays alive or resident memory grows more than 5% over the
/// second half of the calls (the allocator's arenas grow for a while before they level off: a leak keeps growing).
/// </summary>
public static class SoakMode
{
    public static int Run(long calls)
    {
        torch.set_num_threads(2);
        torch.manual_seed(0);
        using var soak = new Soak();
        DisposeScopeManager.Statistics.Reset();
        var tenth = Math.Max(1, calls / 10);
        long warmRss = 0;
        long maxRss = 0;
        var clock = Stopwatch.StartNew();
        for (long done = 0; done < calls; done += tenth)
        {
            var step = Math.Min(tenth, calls - done);
            for (long k = 0; k < step; k += 1000)
            {
                soak.Run(Math.Min(1000, step - k));
                maxRss = done < calls / 2 ? maxRss : Math.Max(maxRss, Soak.Rss());
            }

            warmRss = done + step <= calls / 2 ? Soak.Rss() : warmRss;
            Console.WriteLine($"{done + step,8} calls  live tensors {DisposeScopeManager.Statistics.ThreadTotalLiveCount,3}  RSS {Soak.Rss() / 1048576.0,8:F1} MiB  {clock.Elapsed.TotalSeconds,6:F1} s");
        }

        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var growth = warmRss == 0 ? 0 : (double)(Math.Max(maxRss, Soak.Rss()) - warmRss) / warmRss;
        Console.WriteLine($"live tensors after {calls} calls: {live}; RSS growth over the second half: {growth:P2}");
        return live == 0 && growth <= 0.05 ? 0 : 1;
    }
}
