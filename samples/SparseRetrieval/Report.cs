using System.Globalization;
using ScottPlot;
using Spectre.Console;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>Writes the evaluations as a CSV file, a PNG chart and a side-by-side console table.</summary>
public static class Report
{
    public static string WriteCsv(string folder, IEnumerable<Evaluation> evaluations) => Csv.Write(
        folder,
        "evaluations.csv",
        "run,step,mrr_at_10,query_l0,doc_l0,flops,training_loss,query_weight,doc_weight".Split(','),
        evaluations.Select(e => new[]
        {
            e.Run,
            Csv.Number(e.Step),
            Csv.Number(e.Mrr10),
            Csv.Number(e.QueryL0),
            Csv.Number(e.DocL0),
            Csv.Number(e.Flops),
            Csv.Number(e.TrainingLoss),
            Csv.Number(e.QueryWeight),
            Csv.Number(e.DocWeight),
        }));

    /// <summary>Each budgeted run's per-step trace: measured L0, the target it aimed at, and the weights.</summary>
    public static string WriteBudgetCsv(string folder, IEnumerable<RunResult> runs) => Csv.Write(
        folder,
        "budgets.csv",
        "run,step,doc_l0,doc_l0_target,query_l0,query_l0_target,query_weight,doc_weight".Split(','),
        runs.SelectMany(r => r.Trace.Select(t => new[]
        {
            r.Plan.Name,
            Csv.Number(t.Step),
            Optional(t.DocL0),
            Optional(t.DocTarget),
            Optional(t.QueryL0),
            Optional(t.QueryTarget),
            Csv.Number(t.QueryWeight),
            Csv.Number(t.DocWeight),
        })));

    /// <summary>
    /// Document L0 per step, as the budget measured it on the training batch (solid, left axis), with its target
    /// (dotted), and λd (dashed, right axis), both on log scales, for every budgeted run.
    /// </summary>
    public static string WriteBudgetChart(string folder, IReadOnlyList<RunResult> runs)
    {
        var plot = ChartFont.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var r = 0; r < runs.Count; r++)
        {
            var color = palette.GetColor(r);
            var trace = runs[r].Trace;
            var measured = trace.Where(t => t.DocL0 is not null).ToList();
            if (measured.Count == 0)
            {
                measured = trace.Where(t => t.QueryL0 is not null).ToList();
            }

            var side = trace.Any(t => t.DocL0 is not null) ? "document" : "query";
            double L0(BudgetTrace t) => side == "document" ? t.DocL0!.Value : t.QueryL0!.Value;
            double Target(BudgetTrace t) => side == "document" ? t.DocTarget!.Value : t.QueryTarget!.Value;
            double Weight(BudgetTrace t) => side == "document" ? t.DocWeight : t.QueryWeight;
            var steps = measured.Select(t => (double)t.Step).ToArray();
            ChartLines.Add(plot, steps, measured.Select(t => Math.Log10(Math.Max(L0(t), 1))).ToArray(), color, LinePattern.Solid, $"{side} L0 · {runs[r].Plan.Name}");
            ChartLines.Add(plot, steps, measured.Select(t => Math.Log10(Target(t))).ToArray(), color, LinePattern.Dotted, width: 2);
            var allSteps = trace.Select(t => (double)t.Step).ToArray();
            ChartLines.Add(plot, allSteps, trace.Select(t => Math.Log10(Math.Max(Weight(t), 1e-12))).ToArray(), color, LinePattern.Dashed, $"λ · {runs[r].Plan.Name}", rightAxis: true);
        }

        plot.Title("Sparsity budgets: L0 on the training batches (solid), target (dotted), λ (dashed)");
        plot.XLabel("training step");
        plot.Axes.Left.Label.Text = "L0, log10";
        plot.Axes.Right.Label.Text = "λ, log10";
        plot.ShowLegend(Alignment.UpperRight);
        var path = Path.Combine(folder, "budgets.png");
        plot.SavePng(path, 1100, 620);
        return path;
    }

    /// <summary>The final evaluation of each budgeted run: its targets, what it reached, its quality and its final λ.</summary>
    public static Table BudgetTable(Evaluation baseline, IReadOnlyList<RunResult> runs)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]sparsity budgets: final evaluation[/]");
        foreach (var column in new[] { "run", "doc target", "doc L0", "query target", "query L0", "MRR@10", "FLOPS", "λq", "λd" })
        {
            table.AddColumn(column == "run" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        }

        table.AddRow(Markup.Escape(baseline.Run), "—", F(baseline.DocL0, "F1"), "—", F(baseline.QueryL0, "F1"), F(baseline.Mrr10, "F3"), F(baseline.Flops, "F1"), "—", "—");
        foreach (var run in runs)
        {
            var last = run.Evaluations[^1];
            table.AddRow(
                Markup.Escape(run.Plan.Name),
                run.Plan.DocL0 is double d ? F(d, "G4") : "—",
                F(last.DocL0, "F1"),
                run.Plan.QueryL0 is double q ? F(q, "G4") : "—",
                F(last.QueryL0, "F1"),
                F(last.Mrr10, "F3"),
                F(last.Flops, "F1"),
                F(last.QueryWeight, "G3"),
                F(last.DocWeight, "G3"));
        }

        return table;

        static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static string Optional(double? value) => value is double v ? Csv.Number(v) : string.Empty;

    /// <summary>MRR@10 (left axis) and document L0 (right axis, log scale) against the step, for every run.</summary>
    public static string WriteChart(string folder, IReadOnlyList<RunResult> results)
    {
        var plot = ChartFont.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        var runs = results.Select(r => r.Evaluations).ToArray();
        for (var r = 0; r < runs.Length; r++)
        {
            var steps = runs[r].Select(e => (double)e.Step).ToArray();
            var mrr = plot.Add.Scatter(steps, runs[r].Select(e => e.Mrr10).ToArray());
            mrr.LegendText = $"MRR@10 · {runs[r][0].Run}";
            mrr.Color = palette.GetColor(r);
            mrr.LineWidth = 2;

            var l0 = plot.Add.Scatter(steps, runs[r].Select(e => Math.Log10(Math.Max(e.DocL0, 1))).ToArray());
            l0.LegendText = $"document L0 (log) · {runs[r][0].Run}";
            l0.Color = palette.GetColor(r);
            l0.LinePattern = LinePattern.Dashed;
            l0.LineWidth = 2;
            l0.Axes.YAxis = plot.Axes.Right;
        }

        plot.Title("Sparse retriever on a synthetic collection: MRR@10 and document L0 during training");
        plot.XLabel("training step");
        plot.Axes.Left.Label.Text = "MRR@10 (solid)";
        plot.Axes.Right.Label.Text = "document L0, log10 (dashed)";
        plot.Axes.SetLimitsY(0, 1, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, 4, plot.Axes.Right);
        plot.ShowLegend(Alignment.LowerRight);
        var path = Path.Combine(folder, "sparsity.png");
        plot.SavePng(path, 1100, 620);
        return path;
    }

    public static Table SideBySide(Evaluation baseline, Evaluation regularized)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]final evaluation[/]");
        table.AddColumn("metric");
        table.AddColumn(new TableColumn(Markup.Escape(baseline.Run)).RightAligned());
        table.AddColumn(new TableColumn(Markup.Escape(regularized.Run)).RightAligned());
        table.AddColumn(new TableColumn("change").RightAligned());
        Row("MRR@10", baseline.Mrr10, regularized.Mrr10, "F3", relative: true);
        Row("query L0", baseline.QueryL0, regularized.QueryL0, "F1", relative: false);
        Row("document L0", baseline.DocL0, regularized.DocL0, "F1", relative: false);
        Row("FLOPS (Σ p_j(q) p_j(d))", baseline.Flops, regularized.Flops, "F1", relative: false);
        return table;

        void Row(string name, double a, double b, string format, bool relative)
        {
            var change = relative
                ? ((b - a) / a).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture)
                : b > 0 ? (a / b).ToString("F1", CultureInfo.InvariantCulture) + "× lower" : "all zero";
            table.AddRow(name, a.ToString(format, CultureInfo.InvariantCulture), b.ToString(format, CultureInfo.InvariantCulture), change);
        }
    }
}
