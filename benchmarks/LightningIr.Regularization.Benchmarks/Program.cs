using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/LightningIr.Regularization.Benchmarks</c> runs the short benchmark job;
/// <c>-- soak [calls]</c> runs the soak test; <c>-- peak</c> measures the peak resident memory of one call; <c>-- budget-matrix [tuning|test]</c> runs the budgets' closed-loop tuning or test set; <c>-- prune [rounds]</c> times static pruning against <c>topk</c> + scatter; <c>-- budget-update [rounds]</c> times a budget's update against the regularizer;
/// <c>-- loop &lt;loss&gt; &lt;variant&gt; [calls] [shape] [fresh|accumulated|activation]</c> runs forward+backward in a plain loop for a profiler; any other arguments go to BenchmarkDotNet (e.g. <c>--filter *FLOPS*</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "soak")
        {
            return SoakMode.Run(args.Length > 1 ? long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 300_000);
        }

        if (args.Length >= 3 && args[0] == "loop")
        {
            return LoopMode.Run(
                args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 300, args.Length > 4 ? args[4] : "splade", args.Length > 5 ? args[5] : "fresh");
        }

        if (args.Length > 0 && args[0] == "step")
        {
            return StepMode.Run(args);
        }

        if (args.Length > 0 && args[0] == "budget-matrix")
        {
            return BudgetMatrixMode.Run(args);
        }

        if (args.Length > 0 && args[0] == "prune")
        {
            return PruneMode.Run(args);
        }

        if (args.Length > 0 && args[0] == "budget-update")
        {
            return BudgetUpdateMode.Run(args);
        }

        if (args.Length > 0 && args[0] == "peak")
        {
            return PeakMemoryMode.Run();
        }

        // In-process: the benchmarks run in this process, whose TorchSharp native library the build has prepared.
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithLaunchCount(1);
        var config = DefaultConfig.Instance.AddJob(job.AsDefault()).WithOptions(ConfigOptions.JoinSummary);
        var filter = args.Length == 0 ? ["--filter", "*"] : args;
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(filter, config);
        return 0;
    }
}
