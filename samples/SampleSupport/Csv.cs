using System.Globalization;

namespace SampleSupport;

/// <summary>The samples' CSV output: one header line, comma-separated rows, numbers in the invariant culture.</summary>
public static class Csv
{
    /// <summary>Writes <paramref name="rows"/> under <paramref name="header"/> to <paramref name="fileName"/> in <paramref name="folder"/>; returns the path.</summary>
    public static string Write(string folder, string fileName, string header, IEnumerable<IEnumerable<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var path = Path.Combine(folder, fileName);
        using var writer = new StreamWriter(path);
        writer.WriteLine(header);
        foreach (var row in rows)
        {
            writer.WriteLine(string.Join(',', row));
        }

        return path;
    }

    /// <summary>A real number with six significant digits.</summary>
    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
