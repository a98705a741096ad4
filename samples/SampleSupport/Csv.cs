using System.Globalization;
using CsvHelper;

namespace SampleSupport;

/// <summary>The samples' CSV output, RFC 4180 through CsvHelper: one header row, fields quoted where they need it, numbers in the invariant culture.</summary>
public static class Csv
{
    /// <summary>Writes <paramref name="rows"/> under the <paramref name="columns"/> to <paramref name="fileName"/> in <paramref name="folder"/>; returns the path.</summary>
    public static string Write(string folder, string fileName, IReadOnlyList<string> columns, IEnumerable<IEnumerable<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var path = Path.Combine(folder, fileName);
        using var csv = CsvWriter.Create(new StreamWriter(path), CsvWriterOptions.Default, leaveOpen: false);
        csv.WriteHeader([.. columns]);
        foreach (var row in rows)
        {
            csv.WriteRecord([.. row]);
        }

        return path;
    }

    /// <summary>A real number with six significant digits.</summary>
    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
