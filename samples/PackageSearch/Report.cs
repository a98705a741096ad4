using System.Globalization;
using ScottPlot;
using Spectre.Console;

using SampleSupport;

namespace PackageSearch;

/// <summary>Writes the settings' results as a console table, a CSV file and two PNG charts.</summary>
public static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Table Table(IReadOnlyList<SettingResult> results, string queries)
    {
        ArgumentNullException.ThrowIfNull(results);
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(queries)}, one Lucene thread[/]");
        table.AddColumn("setting");
        foreach (var header in new[] { "MRR@10", "R@100", "doc L0", "query L0", "postings", "max DF", "terms >10%", "median ms", "p95 ms", "postings/query" })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var r in results)
        {
            table.AddRow(
                Markup.Escape(r.Setting),
                r.Mrr10.ToString("F3", Invariant),
                r.Recall100.ToString("F3", Invariant),
                r.DocL0.ToString("F1", Invariant),
                r.QueryL0.ToString("F1", Invariant),
                r.Postings.Postings.ToString("N0", Invariant),
                r.Postings.MaxDocumentFrequency.ToString("N0", Invariant),
                r.Postings.CommonTerms.ToString(Invariant),
                r.MedianMilliseconds.ToString("F3", Invariant),
                r.P95Milliseconds.ToString("F3", Invariant),
                r.PostingsVisited.ToString("N0", Invariant));
        }

        return table;
    }

    public static string WriteCsv(string folder, IReadOnlyList<SettingResult> results) => Csv.Write(
        folder,
        "results.csv",
        "setting,mrr_at_10,recall_at_100,doc_l0,query_l0,postings,max_df,terms_over_10pct,median_ms,p95_ms,postings_visited_per_query,training_seconds",
        results.Select(r => new[]
        {
            r.Setting,
            Csv.Number(r.Mrr10),
            Csv.Number(r.Recall100),
            Csv.Number(r.DocL0),
            Csv.Number(r.QueryL0),
            Csv.Number(r.Postings.Postings),
            Csv.Number(r.Postings.MaxDocumentFrequency),
            Csv.Number(r.Postings.CommonTerms),
            Csv.Number(r.MedianMilliseconds),
            Csv.Number(r.P95Milliseconds),
            Csv.Number(r.PostingsVisited),
            Csv.Number(r.TrainingSeconds),
        }));

    /// <summary>MRR@10 against median latency (log scale), one point per setting.</summary>
    public static string WriteQualityChart(string folder, IReadOnlyList<SettingResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plot = ChartFont.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var point = plot.Add.Marker(Math.Log10(r.MedianMilliseconds), r.Mrr10, MarkerShape.FilledCircle, 14, palette.GetColor(i));
            point.LegendText = $"{r.Setting}: MRR@10 {r.Mrr10.ToString("F3", Invariant)}, {r.MedianMilliseconds.ToString("G3", Invariant)} ms";
        }

        double[] ticks = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100];
        plot.Axes.Bottom.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t.ToString("G", Invariant)).ToArray());
        if (results.FirstOrDefault(r => r.Setting == "BM25") is { } bm25)
        {
            // The goal: above BM25's MRR@10 at no more than 1.5× its median latency.
            var quality = plot.Add.HorizontalLine(bm25.Mrr10, 1, Colors.Gray, LinePattern.Dotted);
            quality.LegendText = "BM25's MRR@10 and 1.5× its latency";
            plot.Add.VerticalLine(Math.Log10(1.5 * bm25.MedianMilliseconds), 1, Colors.Gray, LinePattern.Dotted);
        }

        plot.Title("Debian package search: quality against Lucene query latency");
        plot.XLabel("median query latency, ms (one thread, log scale)");
        plot.YLabel("MRR@10");
        var latencies = results.Select(r => Math.Log10(r.MedianMilliseconds)).ToArray();
        plot.Axes.SetLimits(latencies.Min() - 0.15, latencies.Max() + 0.15, results.Min(r => r.Mrr10) - 0.08, Math.Min(1, results.Max(r => r.Mrr10) + 0.03));
        plot.ShowLegend(Edge.Right);
        var path = Path.Combine(folder, "quality-vs-latency.png");
        plot.SavePng(path, 1200, 620);
        return path;
    }

    /// <summary>
    /// Each budgeted model's query and document L0 on the training batches (solid) with their targets (dotted), and λq and
    /// λd (dashed, right axis), on log scales, over the steps.
    /// </summary>
    public static string WriteBudgetChart(string folder, IReadOnlyList<(string Name, List<BudgetStep> Trace)> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var plot = ChartFont.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        var color = 0;
        foreach (var (name, trace) in runs)
        {
            var steps = trace.Select(t => (double)t.Step).ToArray();
            foreach (var (side, l0, target, weight) in new (string, Func<BudgetStep, double>, Func<BudgetStep, double>, Func<BudgetStep, double>)[]
            {
                ("query", t => t.QueryL0, t => t.QueryTarget, t => t.QueryWeight),
                ("document", t => t.DocL0, t => t.DocTarget, t => t.DocWeight),
            })
            {
                var c = palette.GetColor(color++);
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(l0(t), 0.1))).ToArray(), c, LinePattern.Solid, $"{side} L0 · {name}");
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(target(t), 0.1))).ToArray(), c, LinePattern.Dotted);
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(weight(t), 1e-12))).ToArray(), c, LinePattern.Dashed, $"λ ({side}) · {name}", rightAxis: true);
            }
        }

        plot.Title("Sparsity budgets: L0 on the training batches (solid), targets (dotted), λ (dashed)");
        plot.XLabel("training step");
        plot.Axes.Left.Label.Text = "L0, log10";
        plot.Axes.Right.Label.Text = "λ, log10";
        plot.ShowLegend(Edge.Bottom);
        var path = Path.Combine(folder, "budgets.png");
        plot.SavePng(path, 1100, 720);
        return path;
    }

    /// <summary>The document frequencies of each learned index's most frequent terms, longest posting list first.</summary>
    public static string WriteFrequencyChart(string folder, IReadOnlyList<SettingResult> results, int topTerms)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plot = ChartFont.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < results.Count; i++)
        {
            var frequencies = results[i].Postings.DocumentFrequencies;
            if (frequencies.Length == 0)
            {
                continue;
            }

            var count = Math.Min(topTerms, frequencies.Length);
            var line = plot.Add.Scatter(
                Enumerable.Range(1, count).Select(x => (double)x).ToArray(),
                frequencies.Take(count).Select(f => (double)f).ToArray());
            line.LegendText = results[i].Setting;
            line.Color = palette.GetColor(i);
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }

        plot.Title($"Posting-list lengths of the {topTerms} most frequent terms");
        plot.XLabel("term rank by document frequency");
        plot.YLabel("document frequency");
        plot.ShowLegend(Alignment.UpperRight);
        var path = Path.Combine(folder, "document-frequencies.png");
        plot.SavePng(path, 1000, 620);
        return path;
    }
}
