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
        "run,step,mrr_at_10,query_l0,doc_l0,flops,training_loss,doc_regularizer_weight",
        evaluations.Select(e => new[]
        {
            e.Run,
            Csv.Number(e.Step),
            Csv.Number(e.Mrr10),
            Csv.Number(e.QueryL0),
            Csv.Number(e.DocL0),
            Csv.Number(e.Flops),
            Csv.Number(e.TrainingLoss),
            Csv.Number(e.RegularizerWeight),
        }));

    /// <summary>MRR@10 (left axis) and document L0 (right axis, log scale) against the step, for both runs.</summary>
    public static string WriteChart(string folder, IReadOnlyList<Evaluation> baseline, IReadOnlyList<Evaluation> regularized)
    {
        var plot = ChartFont.NewPlot();
        var colors = new[] { Colors.SteelBlue, Colors.OrangeRed };
        var runs = new[] { baseline, regularized };
        for (var r = 0; r < runs.Length; r++)
        {
            var steps = runs[r].Select(e => (double)e.Step).ToArray();
            var mrr = plot.Add.Scatter(steps, runs[r].Select(e => e.Mrr10).ToArray());
            mrr.LegendText = $"MRR@10 · {runs[r][0].Run}";
            mrr.Color = colors[r];
            mrr.LineWidth = 2;

            var l0 = plot.Add.Scatter(steps, runs[r].Select(e => Math.Log10(Math.Max(e.DocL0, 1))).ToArray());
            l0.LegendText = $"document L0 (log) · {runs[r][0].Run}";
            l0.Color = colors[r];
            l0.LinePattern = LinePattern.Dashed;
            l0.LineWidth = 2;
            l0.Axes.YAxis = plot.Axes.Right;
        }

        plot.Title("Sparse retriever on a synthetic collection: FLOPS regularization");
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
