using System.Globalization;
using LightningIr.Regularization.TestSupport;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// <c>-- budget-matrix [tuning|test] [case…]</c>: runs the closed-loop tuning or test set of budget trainings (or the given
/// cases of it) with the library's defaults (one at a time, on one TorchSharp thread) and prints the guide's hit table
/// as Markdown; <c>-- budget-matrix [tuning|test] trace &lt;case&gt; [every]</c> prints one training's trace;
/// <c>-- budget-matrix [tuning|test] fixed [case…]</c> prints the same set's table for the best fixed λ found with hindsight
/// (<see cref="ClosedLoop.BestFixedWeight"/>), the budget's baseline.
/// </summary>
public static class BudgetMatrixMode
{
    public static int Run(string[] args)
    {
        var set = args.Length > 1 && args[1] is "tuning" or "test" ? args[1] : "tuning";
        var all = set == "test" ? ClosedLoop.TestSet : ClosedLoop.TuningSet;
        if (args.Length > 1 && args[1] is "tuning" or "test")
        {
            args = [args[0], .. args[2..]];
        }

        if (args.Length > 2 && args[1] == "trace")
        {
            var run = ClosedLoop.Run(all[int.Parse(args[2], CultureInfo.InvariantCulture)]);
            for (var s = 0; s < run.DocL0.Count; s += args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 25)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s,5} q {run.QueryL0[s],7:F1} d {run.DocL0[s],7:F1} f {run.Flops[s],8:F2} λq {run.QueryWeights[s],9:G3} λd {run.DocWeights[s],9:G3} {run.Statuses[s]}"));
            }

            return 0;
        }

        var fixedWeight = args.Length > 1 && args[1] == "fixed";
        if (fixedWeight)
        {
            args = [args[0], .. args[2..]];
        }

        var cases = args.Length > 1 ? [.. args[1..].Select(a => all[int.Parse(a, CultureInfo.InvariantCulture)])] : all.ToList();
        var rows = new string[cases.Count];
        var hits = 0;
        var started = DateTime.UtcNow;
        // One training at a time on one thread (TorchSharp's optimizers can fail with "Unknown scalar type" when two step in
        // parallel threads of one process); to use two cores, run two processes on halves of the set.
        TorchSharp.torch.set_num_threads(1);
        for (var i = 0; i < cases.Count; i++)
        {
            var (row, hit) = fixedWeight ? FixedWeightRow(cases[i]) : BudgetRow(cases[i]);
            hits += hit ? 1 : 0;
            rows[i] = row;
            Console.Error.WriteLine(row);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"The {set} set, {cases.Count} cases:"));
        Console.WriteLine(fixedWeight
            ? "| case | each target alone, the best fixed λ | hit |\n|---|---|---|"
            : "| case | reached over the last 15% of steps | final λq / λd | final status | hit |\n|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Console.WriteLine(row);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n{hits} of {cases.Count} hit ({(DateTime.UtcNow - started).TotalSeconds:F0} s)"));
        return 0;
    }

    /// <summary>One training under the budget's defaults, judged.</summary>
    private static (string Row, bool Hit) BudgetRow(ClosedLoopCase c)
    {
        var run = ClosedLoop.Run(c);
        var verdicts = ClosedLoop.Judge(run);
        var hit = verdicts.TrueForAll(v => v.Hit);
        return (string.Create(CultureInfo.InvariantCulture,
            $"| {c} | {string.Join("; ", verdicts)} | {run.QueryWeights[^1]:G2} / {run.DocWeights[^1]:G2} | {run.Statuses[^1]} | {(hit ? "yes" : "**no**")} |"), hit);
    }

    /// <summary>The best fixed λ of each target of one training, with hindsight.</summary>
    private static (string Row, bool Hit) FixedWeightRow(ClosedLoopCase c)
    {
        var verdicts = ClosedLoop.BestFixedWeight(c);
        var hit = verdicts.TrueForAll(v => v.Hit);
        return ($"| {c} | {string.Join("; ", verdicts)} | {(hit ? "yes" : "**no**")} |", hit);
    }
}
