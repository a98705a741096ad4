using ScottPlot;

namespace SampleSupport;

/// <summary>The font the samples draw their charts with, shipped in the output so charts look the same everywhere.</summary>
public static class ChartFont
{
    private const string Name = "DejaVu Sans";

    /// <summary>Registers the shipped font and returns a plot that uses it.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        Apply(plot);
        return plot;
    }

    /// <summary>Registers the shipped font and sets it on <paramref name="plot"/> (for the plots of a multiplot).</summary>
    public static void Apply(Plot plot)
    {
        ArgumentNullException.ThrowIfNull(plot);
        Fonts.AddFontFile(Name, Path.Combine(AppContext.BaseDirectory, "Assets", "DejaVuSans.ttf"));
        plot.Font.Set(Name);
    }
}
