using System.Diagnostics;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// The plain harness the <c>prune</c> and <c>budget-update</c> modes share: variants timed in rounds, a different one first
/// each round, after one warm-up round, and a distribution-free interval for the median of paired per-round ratios.
/// </summary>
public static class RotatingRounds
{
    /// <summary>Seconds per call of each variant in each round (<c>[variant][round]</c>), each call in a dispose scope.</summary>
    /// <param name="calls">The variants.</param>
    /// <param name="rounds">The timed rounds.</param>
    /// <param name="callsPerRound">The calls of a variant timed together in a round.</param>
    public static double[][] Time(IReadOnlyList<Action> calls, int rounds, int callsPerRound)
    {
        ArgumentNullException.ThrowIfNull(calls);
        var seconds = calls.Select(_ => new double[rounds]).ToArray();
        for (var round = -1; round < rounds; round++)
        {
            for (var step = 0; step < calls.Count; step++)
            {
                var v = (step + Math.Max(round, 0)) % calls.Count;
                GC.Collect();
                var clock = Stopwatch.StartNew();
                for (var call = 0; call < callsPerRound; call++)
                {
                    using var scope = NewDisposeScope();
                    calls[v]();
                }

                if (round >= 0)
                {
                    seconds[v][round] = clock.Elapsed.TotalSeconds / callsPerRound;
                }
            }
        }

        return seconds;
    }

    /// <summary>The median and the order statistics that bracket it with at least 95% coverage (binomial, p = ½).</summary>
    /// <param name="values">The values, in any order.</param>
    public static (double Low, double Median, double High) MedianInterval(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        var lower = 0;
        var mass = Math.Pow(0.5, n);
        while (lower + 1 < n / 2 && mass + Binomial(n, lower + 1) <= 0.025)
        {
            lower++;
            mass += Binomial(n, lower);
        }

        return (sorted[lower], median, sorted[n - 1 - lower]);
    }

    /// <summary>The median alone.</summary>
    /// <param name="values">The values, in any order.</param>
    public static double Median(IReadOnlyList<double> values) => MedianInterval(values).Median;

    private static double Binomial(int n, int k)
    {
        double c = 1;
        for (var i = 0; i < k; i++)
        {
            c = c * (n - i) / (i + 1);
        }

        return c * Math.Pow(0.5, n);
    }
}
