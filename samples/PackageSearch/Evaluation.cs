using System.Diagnostics;
using Lucene.Net.Search;

namespace PackageSearch;

/// <summary>What one setting (BM25 or a learned model) costs and achieves on the held-out queries.</summary>
public sealed record SettingResult(
    string Setting,
    double Mrr10,
    double Recall100,
    double DocL0,
    double QueryL0,
    PostingStatistics Postings,
    double MedianMilliseconds,
    double P95Milliseconds,
    double PostingsVisited,
    double TrainingSeconds);

/// <summary>A setting ready to be searched: its index and its held-out queries.</summary>
/// <param name="Name">The setting's name in reports.</param>
/// <param name="Index">The index to search.</param>
/// <param name="Queries">The held-out queries, in the order of the targets.</param>
/// <param name="DocL0">The documents' mean L0 before indexing; <see langword="null"/> to take the index's postings per document.</param>
/// <param name="QueryL0">The queries' mean L0.</param>
/// <param name="TrainingSeconds">How long the model trained (0 for BM25).</param>
public sealed record SearchSetting(string Name, SearchIndex Index, Query[] Queries, double? DocL0, double QueryL0, double TrainingSeconds);

/// <summary>Runs the held-out queries against every setting and measures quality and cost.</summary>
public static class Evaluation
{
    private const int Depth = 100;

    /// <summary>
    /// Searches every query in every setting twice: a warm-up round (JIT, caches), then a timed round in which the
    /// settings take turns query by query, so that the machine's noise spreads evenly over them. One thread.
    /// </summary>
    public static List<SettingResult> Run(IReadOnlyList<SearchSetting> settings, int[] targets, Action<int> onQuery)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(onQuery);
        var latencies = settings.Select(_ => new double[targets.Length]).ToArray();
        var rankings = settings.Select(_ => new int[targets.Length][]).ToArray();
        for (var round = 0; round < 2; round++)
        {
            for (var q = 0; q < targets.Length; q++)
            {
                for (var s = 0; s < settings.Count; s++)
                {
                    var start = Stopwatch.GetTimestamp();
                    rankings[s][q] = settings[s].Index.Search(settings[s].Queries[q], Depth);
                    latencies[s][q] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                onQuery((round * targets.Length) + q + 1);
            }
        }

        return settings.Select((setting, s) =>
        {
            var ranks = rankings[s].Select((ranking, q) => Array.IndexOf(ranking, targets[q])).ToArray();
            var sorted = latencies[s].Order().ToArray();
            var postings = setting.Index.Statistics();
            return new SettingResult(
                setting.Name,
                ranks.Average(r => r is >= 0 and < 10 ? 1.0 / (r + 1) : 0),
                ranks.Average(r => r >= 0 ? 1.0 : 0),
                setting.DocL0 ?? (double)postings.Postings / setting.Index.DocumentCount,
                setting.QueryL0,
                postings,
                Quantile(sorted, 0.5),
                Quantile(sorted, 0.95),
                setting.Queries.Average(setting.Index.PostingsVisited),
                setting.TrainingSeconds);
        }).ToList();
    }

    /// <summary>The nearest-rank quantile of sorted values.</summary>
    public static double Quantile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
