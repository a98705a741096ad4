using ScottPlot;

namespace SampleSupport;

/// <summary>The font the samples draw their charts with, shipped in the output so charts look the same everywhere.</summary>
public static class ChartFont
{
    private const string Name = "DejaVu Sans";

    /// <summary>Registers the shipped font and returns a plot that uses it.</summary>
    public static Plot NewPlot()
    {
        Fonts.AddFontFile(Name, Path.Combine(AppContext.BaseDirectory, "Assets", "DejaVuSans.ttf"));
        var plot = new Plot();
        plot.Font.Set(Name);
        return plot;
    }
}
