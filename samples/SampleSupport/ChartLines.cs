using ScottPlot;
using ScottPlot.Plottables;

namespace SampleSupport;

/// <summary>The line series the samples' charts draw: no markers, a colour, a pattern, optionally on the right axis.</summary>
public static class ChartLines
{
    /// <summary>Adds the line (<paramref name="xs"/>, <paramref name="ys"/>) to <paramref name="plot"/>, with a legend entry when <paramref name="legend"/> is given.</summary>
    public static Scatter Add(Plot plot, double[] xs, double[] ys, Color color, LinePattern pattern, string? legend = null, bool rightAxis = false, float width = 1.5f)
    {
        ArgumentNullException.ThrowIfNull(plot);
        var line = plot.Add.Scatter(xs, ys);
        line.Color = color;
        line.LinePattern = pattern;
        line.LineWidth = width;
        line.MarkerSize = 0;
        if (legend is not null)
        {
            line.LegendText = legend;
        }

        if (rightAxis)
        {
            line.Axes.YAxis = plot.Axes.Right;
        }

        return line;
    }
}
