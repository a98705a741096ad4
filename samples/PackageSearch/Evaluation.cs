using System.Diagnostics;
using Lucene.Net.Search;

namespace PackageSearch;

/// <summary>Runs the reported queries against every setting and measures quality, size and latency.</summary>
public static class Evaluation
{
    private const int Depth = 100;

    /// <summary>The bootstrap's resamples for the paired intervals.</summary>
    public const int Resamples = 10_000;

    /// <summary>
    /// Serves and searches every query in every setting: a warm-up round (JIT, caches), then <paramref name="rounds"/>
    /// timed rounds. In each timed round every query visits the settings in its own seeded random order, so that neither
    /// the machine's drift nor a cache warmed by the previous setting favours one. Each visit times the whole path from the
    /// query's text (analysis, a learned model's query side and quantization, search) and the search alone. One thread.
    /// Then each learned row gets its paired bootstrap intervals against BM25 (<paramref name="bm25"/>) and against the
    /// best keyword baseline of the run by MRR@10.
    /// </summary>
    public static List<SettingResult> Run(IReadOnlyList<SearchSetting> settings, IReadOnlyList<string> queries, int[] targets, int rounds, int seed, string bm25, Action<int> onQuery)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(onQuery);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var endToEnd = settings.Select(_ => new List<double>()).ToArray();
        var search = settings.Select(_ => new List<double>()).ToArray();
        var rankings = settings.Select(_ => new int[queries.Count][]).ToArray();
        var served = settings.Select(_ => new Query[queries.Count]).ToArray();
        var random = new Random(seed);
        var order = Enumerable.Range(0, settings.Count).ToArray();
        for (var round = 0; round <= rounds; round++)
        {
            for (var q = 0; q < queries.Count; q++)
            {
                random.Shuffle(order);
                foreach (var s in order)
                {
                    var start = Stopwatch.GetTimestamp();
                    var query = settings[s].Serve(queries[q]);
                    var built = Stopwatch.GetTimestamp();
                    var ranking = settings[s].Index.Search(query, Depth);
                    var done = Stopwatch.GetTimestamp();
                    if (round == 0)
                    {
                        rankings[s][q] = ranking;
                        served[s][q] = query;
                        continue;
                    }

                    endToEnd[s].Add(Stopwatch.GetElapsedTime(start, done).TotalMilliseconds);
                    search[s].Add(Stopwatch.GetElapsedTime(built, done).TotalMilliseconds);
                }

                onQuery((round * queries.Count) + q + 1);
            }
        }

        var results = settings.Select((setting, s) =>
        {
            var ranks = rankings[s].Select((ranking, q) => Array.IndexOf(ranking, targets[q])).ToArray();
            var reciprocal = ranks.Select(r => r is >= 0 and < 10 ? 1.0 / (r + 1) : 0).ToArray();
            var postings = setting.Index.Statistics();
            var e2e = endToEnd[s].Order().ToArray();
            var alone = search[s].Order().ToArray();
            return new SettingResult(
                setting.Name,
                setting.Kind,
                reciprocal.Average(),
                ranks.Average(r => r >= 0 ? 1.0 : 0),
                (double)postings.Postings / setting.Index.DocumentCount,
                served[s].Average(q => (double)((BooleanQuery)q).Clauses.Count),
                setting.EncoderDocL0,
                postings,
                Quantile(alone, 0.5),
                Quantile(alone, 0.95),
                Quantile(e2e, 0.5),
                Quantile(e2e, 0.95),
                served[s].Average(setting.Index.PostingsVisited),
                setting.TrainingSeconds,
                reciprocal) { PrunedFrom = setting.PrunedFrom, PrunedBy = setting.PrunedBy };
        }).ToList();

        var baseline = results.Single(r => r.Setting == bm25);
        var best = BestKeyword(results);
        var untrained = results.FirstOrDefault(r => r.Kind == SettingKind.Start);
        PairedDifference Versus(SettingResult r, SettingResult other) => PairedBootstrap.Interval(r.ReciprocalRanks, other.ReciprocalRanks, Resamples, seed);
        return results.Select(r =>
        {
            if (r.IsKeyword)
            {
                return r;
            }

            var matched = r.Kind == SettingKind.Trained ? MatchedPruned(results, r) : null;
            return r with
            {
                VersusBm25 = Versus(r, baseline),
                VersusBestKeyword = Versus(r, best),
                MatchedPruned = matched?.Setting,
                VersusMatchedPruned = matched is null ? null : Versus(r, matched),
                VersusStart = r.Kind == SettingKind.Trained && untrained is not null ? Versus(r, untrained) : null,
            };
        }).ToList();
    }

    /// <summary>How far, as a fraction of a trained row's postings, a pruned row's may be to count as the same size.</summary>
    public const double MatchedSize = 0.02;

    /// <summary>The best pruned row (by MRR@10) within <see cref="MatchedSize"/> of the row's postings, or none.</summary>
    public static SettingResult? MatchedPruned(IReadOnlyList<SettingResult> results, SettingResult row)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(row);
        return results
            .Where(r => r.Kind == SettingKind.Pruned && Math.Abs(r.Postings.Postings - row.Postings.Postings) <= MatchedSize * row.Postings.Postings)
            .MaxBy(r => r.Mrr10);
    }

    /// <summary>The run's best keyword baseline by MRR@10.</summary>
    public static SettingResult BestKeyword(IReadOnlyList<SettingResult> results) => results.Where(r => r.IsKeyword).MaxBy(r => r.Mrr10)!;

    /// <summary>The nearest-rank quantile of sorted values.</summary>
    public static double Quantile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
