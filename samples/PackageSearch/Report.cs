using System.Globalization;
using ScottPlot;
using Spectre.Console;

using SampleSupport;

namespace PackageSearch;

/// <summary>Writes the settings' results as a console table, a CSV file and three PNG charts: the frontier, the budgets' traces and the posting-list lengths.</summary>
public static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Table Table(IReadOnlyList<SettingResult> results, string queries)
    {
        ArgumentNullException.ThrowIfNull(results);
        var best = Evaluation.BestKeyword(results);
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(queries)}, one thread[/]; Δ: paired MRR@10 differences with 95% bootstrap intervals, against BM25 and against the best keyword row ({Markup.Escape(best.Setting)})");
        table.AddColumn("setting");
        foreach (var header in new[]
        {
            "MRR@10", "Δ BM25", "Δ best keyword", "Δ matched pruned", "Δ start", "R@100", "doc L0", "query L0", "encoder doc L0", "postings", "max DF", "terms >10%",
            "end-to-end median ms", "end-to-end p95 ms", "search median ms", "search p95 ms", "postings/query",
        })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var r in results)
        {
            table.AddRow(
                Markup.Escape(r.Setting),
                r.Mrr10.ToString("F3", Invariant),
                Markup.Escape(Difference(r.VersusBm25)),
                Markup.Escape(Difference(r.VersusBestKeyword)),
                Markup.Escape(Difference(r.VersusMatchedPruned)),
                Markup.Escape(Difference(r.VersusStart)),
                r.Recall100.ToString("F3", Invariant),
                r.DocL0.ToString("F1", Invariant),
                r.QueryL0.ToString("F1", Invariant),
                r.EncoderDocL0?.ToString("F1", Invariant) ?? "",
                r.Postings.Postings.ToString("N0", Invariant),
                r.Postings.MaxDocumentFrequency.ToString("N0", Invariant),
                r.Postings.CommonTerms.ToString(Invariant),
                r.EndToEndMedianMilliseconds.ToString("F3", Invariant),
                r.EndToEndP95Milliseconds.ToString("F3", Invariant),
                r.SearchMedianMilliseconds.ToString("F3", Invariant),
                r.SearchP95Milliseconds.ToString("F3", Invariant),
                r.PostingsVisited.ToString("N0", Invariant));
        }

        return table;
    }

    /// <summary>A paired difference as "+0.012 [+0.004, +0.020]", or empty.</summary>
    public static string Difference(PairedDifference? d) => d is null ? "" : string.Create(Invariant, $"{d.Mean:+0.000;-0.000} [{d.Low:+0.000;-0.000}, {d.High:+0.000;-0.000}]");

    /// <summary>The columns of <c>results.csv</c>, in order.</summary>
    public static readonly string[] CsvColumns =
    [
        "setting", "keyword", "mrr_at_10", "recall_at_100", "doc_l0", "query_l0", "encoder_doc_l0", "postings", "max_df", "terms_over_10pct",
        "median_ms", "p95_ms", "end_to_end_median_ms", "end_to_end_p95_ms", "postings_visited_per_query", "training_seconds",
        "mrr_diff_vs_bm25", "mrr_diff_vs_bm25_low", "mrr_diff_vs_bm25_high", "best_keyword",
        "mrr_diff_vs_best_keyword", "mrr_diff_vs_best_keyword_low", "mrr_diff_vs_best_keyword_high",
        "kind", "pruned_from", "matched_pruned",
        "mrr_diff_vs_matched_pruned", "mrr_diff_vs_matched_pruned_low", "mrr_diff_vs_matched_pruned_high",
        "mrr_diff_vs_start", "mrr_diff_vs_start_low", "mrr_diff_vs_start_high",
    ];

    /// <summary>
    /// Writes <c>results.csv</c> (RFC 4180): <c>doc_l0</c> and <c>query_l0</c> count what is served (postings per document,
    /// clauses per query), <c>encoder_doc_l0</c> a learned model's non-zeros before quantization; <c>median_ms</c> and
    /// <c>p95_ms</c> are Lucene's search alone, the <c>end_to_end</c> columns the whole path from the query's text; the
    /// differences and their 95% interval ends are empty for keyword rows. <c>kind</c> is <c>keyword</c>, <c>start</c>,
    /// <c>trained</c> or <c>pruned</c>; <c>pruned_from</c> names a pruned row's source; for trained rows,
    /// <c>matched_pruned</c> names the best pruned row within 2% of its postings and <c>mrr_diff_vs_matched_pruned</c>
    /// and <c>mrr_diff_vs_start</c> are the paired differences against it and against the untrained start.
    /// </summary>
    public static string WriteCsv(string folder, IReadOnlyList<SettingResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var best = Evaluation.BestKeyword(results).Setting;
        string Optional(double? value) => value is double v ? Csv.Number(v) : "";
        return Csv.Write(folder, "results.csv", CsvColumns, results.Select(r => new[]
        {
            r.Setting,
            r.IsKeyword ? "true" : "false",
            Csv.Number(r.Mrr10),
            Csv.Number(r.Recall100),
            Csv.Number(r.DocL0),
            Csv.Number(r.QueryL0),
            Optional(r.EncoderDocL0),
            Csv.Number(r.Postings.Postings),
            Csv.Number(r.Postings.MaxDocumentFrequency),
            Csv.Number(r.Postings.CommonTerms),
            Csv.Number(r.SearchMedianMilliseconds),
            Csv.Number(r.SearchP95Milliseconds),
            Csv.Number(r.EndToEndMedianMilliseconds),
            Csv.Number(r.EndToEndP95Milliseconds),
            Csv.Number(r.PostingsVisited),
            Csv.Number(r.TrainingSeconds),
            Optional(r.VersusBm25?.Mean),
            Optional(r.VersusBm25?.Low),
            Optional(r.VersusBm25?.High),
            r.IsKeyword ? "" : best,
            Optional(r.VersusBestKeyword?.Mean),
            Optional(r.VersusBestKeyword?.Low),
            Optional(r.VersusBestKeyword?.High),
            r.Kind.ToString().ToLowerInvariant(),
            r.PrunedFrom ?? "",
            r.MatchedPruned ?? "",
            Optional(r.VersusMatchedPruned?.Mean),
            Optional(r.VersusMatchedPruned?.Low),
            Optional(r.VersusMatchedPruned?.High),
            Optional(r.VersusStart?.Mean),
            Optional(r.VersusStart?.Low),
            Optional(r.VersusStart?.High),
        }));
    }

    /// <summary>
    /// The frontier a user picks an operating point from: MRR@10 against the index's postings (left) and against the
    /// end-to-end median latency (right). Keyword baselines are squares, the untrained start a star, trained models
    /// circles (each series of budgeted models, <paramref name="series"/>, joined in its order), and the pruned baselines
    /// triangles (from λ = 0) and diamonds (from the start), filled for top k per document and open for one global
    /// threshold. Rows with more than four times BM25's postings (the unregularized model) are left out and named in the
    /// title. Dotted lines at BM25's postings and 1.1× its latency, dashed at its MRR@10.
    /// </summary>
    public static string WriteFrontierChart(string folder, IReadOnlyList<SettingResult> results, IReadOnlyList<IReadOnlyList<string>> series)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(series);
        var bm25 = results.First(r => r.IsKeyword);
        var limit = 4.0 * bm25.Postings.Postings;
        var shown = results.Where(r => r.Postings.Postings <= limit).ToList();
        var hidden = results.Where(r => r.Postings.Postings > limit).Select(r => string.Create(Invariant, $"{r.Setting} ({r.Postings.Postings / 1e6:F1} M postings, MRR@10 {r.Mrr10:F3})")).ToList();
        var panels = new (string Label, Func<SettingResult, double> X, double Line, string LineText)[]
        {
            ("postings in the index, millions", r => r.Postings.Postings / 1e6, bm25.Postings.Postings / 1e6, "BM25's postings"),
            ("end-to-end median latency, ms (one thread)", r => r.EndToEndMedianMilliseconds, 1.1 * bm25.EndToEndMedianMilliseconds, "1.1× BM25's latency"),
        };
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var p = 0; p < panels.Length; p++)
        {
            var (label, x, line, lineText) = panels[p];
            var plot = multiplot.GetPlot(p);
            ChartFont.Apply(plot);
            var palette = new ScottPlot.Palettes.Category10();
            var color = 0;
            var legends = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in shown)
            {
                var (shape, group, c) = r.Kind switch
                {
                    SettingKind.Pruned => (
                        r.PrunedBy == PrunedBaselines.GlobalThresholdName
                            ? (r.PrunedFrom == Experiment.UnregularizedName ? MarkerShape.OpenTriangleUp : MarkerShape.OpenDiamond)
                            : (r.PrunedFrom == Experiment.UnregularizedName ? MarkerShape.FilledTriangleUp : MarkerShape.FilledDiamond),
                        $"{r.PrunedFrom} pruned, {r.PrunedBy}",
                        Colors.DimGray),
                    SettingKind.Start => (MarkerShape.FilledCircle, r.Setting, Colors.Black),
                    SettingKind.Keyword => (MarkerShape.FilledSquare, r.Setting, palette.GetColor(color++)),
                    _ => (MarkerShape.FilledCircle, r.Setting, palette.GetColor(color++)),
                };
                var marker = plot.Add.Marker(x(r), r.Mrr10, shape, r.Kind == SettingKind.Pruned ? 9 : 12, c);
                if (legends.Add(group))
                {
                    marker.LegendText = group;
                }
            }

            foreach (var names in series)
            {
                var frontier = names.Select(n => shown.FirstOrDefault(r => r.Setting == n)).OfType<SettingResult>().ToList();
                if (frontier.Count > 1)
                {
                    ChartLines.Add(plot, frontier.Select(x).ToArray(), frontier.Select(r => r.Mrr10).ToArray(), Colors.Gray, LinePattern.Solid);
                }
            }

            plot.Add.VerticalLine(line, 1, Colors.Gray, LinePattern.Dotted).LegendText = lineText;
            plot.Add.HorizontalLine(bm25.Mrr10, 1, Colors.Gray, LinePattern.Dashed).LegendText = "BM25's MRR@10";
            plot.XLabel(label);
            plot.YLabel("MRR@10");
            if (p == 0 && hidden.Count > 0)
            {
                plot.Title("Off the chart: " + string.Join("; ", hidden), size: 11);
            }

            if (p == 1)
            {
                plot.ShowLegend(Edge.Right);
            }
            else
            {
                plot.HideLegend();
            }
        }

        var path = Path.Combine(folder, "frontier.png");
        multiplot.SavePng(path, 1900, 700);
        return path;
    }

    /// <summary>
    /// Each budgeted model's document L0 (and query L0, when it has a query budget), or its FLOPS figure, on the training
    /// batches (solid) with the levels the budget steered to (dotted), and λ (dashed, right axis), on log scales, over the
    /// steps.
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
                ("FLOPS", t => t.Flops, t => t.FlopsTarget, t => t.DocWeight),
            })
            {
                if (trace.All(t => target(t) == 0))
                {
                    continue; // this side has no budget
                }

                var c = palette.GetColor(color++);
                var figure = side == "FLOPS" ? "FLOPS" : $"{side} L0";
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(l0(t), 1e-3))).ToArray(), c, LinePattern.Solid, $"{figure} · {name}");
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(target(t), 1e-3))).ToArray(), c, LinePattern.Dotted);
                ChartLines.Add(plot, steps, trace.Select(t => Math.Log10(Math.Max(weight(t), 1e-12))).ToArray(), c, LinePattern.Dashed, $"λ ({(side == "FLOPS" ? "both sides" : side)}) · {name}", rightAxis: true);
            }
        }

        plot.Title("Sparsity budgets: L0 or FLOPS on the training batches (solid), targets (dotted), λ (dashed)");
        plot.XLabel("training step");
        plot.Axes.Left.Label.Text = "L0 (terms) or FLOPS (fraction of the documents), log10";
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
