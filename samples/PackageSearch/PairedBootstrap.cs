namespace PackageSearch;

/// <summary>
/// The paired bootstrap of a difference in mean per-query scores (Efron and Tibshirani, 1993; Sakai, SIGIR 2006, for IR):
/// the queries are resampled with replacement, both systems keep their scores of the same queries, and the interval is
/// the percentile interval of the resampled mean differences.
/// </summary>
public static class PairedBootstrap
{
    /// <summary>The mean of <paramref name="a"/> − <paramref name="b"/> query by query, with its percentile interval.</summary>
    public static PairedDifference Interval(IReadOnlyList<double> a, IReadOnlyList<double> b, int resamples, int seed)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count || a.Count == 0)
        {
            throw new ArgumentException($"Paired scores need the same queries: {a.Count} and {b.Count}.", nameof(b));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 100);
        var differences = a.Zip(b, (x, y) => x - y).ToArray();
        var random = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            var sum = 0.0;
            for (var i = 0; i < differences.Length; i++)
            {
                sum += differences[random.Next(differences.Length)];
            }

            means[r] = sum / differences.Length;
        }

        Array.Sort(means);
        return new PairedDifference(differences.Average(), Evaluation.Quantile(means, 0.025), Evaluation.Quantile(means, 0.975));
    }
}

/// <summary>A paired difference of per-query scores with its 95% interval.</summary>
/// <param name="Mean">The mean difference.</param>
/// <param name="Low">The interval's lower end (the 2.5th percentile of the resampled means).</param>
/// <param name="High">The interval's upper end (the 97.5th percentile).</param>
public sealed record PairedDifference(double Mean, double Low, double High);
