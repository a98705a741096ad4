using System.Text;
using System.Text.RegularExpressions;
using K4os.Compression.LZ4.Streams;

namespace PackageSearch;

/// <summary>
/// Reads Debian's <c>Translation-en</c> files (apt's description lists) and cleans them into a known-item collection:
/// the synopsis is the query, the long description the one relevant document.
/// </summary>
public static partial class PackageDescriptions
{
    /// <summary>Where apt keeps its lists.</summary>
    public const string AptListsFolder = "/var/lib/apt/lists";

    /// <summary>The command that fetches the English description lists on a Debian-family machine.</summary>
    public const string FetchCommand = "sudo apt-get -o Acquire::Languages=en update";

    /// <summary>The description lists apt has fetched, largest first (the main archive before its updates).</summary>
    public static IReadOnlyList<string> AptFiles() =>
        Directory.Exists(AptListsFolder)
            ? Directory.GetFiles(AptListsFolder, "*_i18n_Translation-en*").OrderByDescending(f => new FileInfo(f).Length).ToList()
            : [];

    /// <summary>
    /// Parses one description list, plain or lz4-compressed (apt's format on Debian 12): records of <c>Package:</c> and
    /// <c>Description-en:</c> (the synopsis) followed by the long description, one line per line starting with a
    /// space and <c>" ."</c> for an empty line.
    /// </summary>
    public static IEnumerable<PackageDescription> Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".lz4", StringComparison.Ordinal) ? LZ4Stream.Decode(file) : file;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? package = null;
        string? synopsis = null;
        var description = new StringBuilder();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.StartsWith("Package: ", StringComparison.Ordinal))
            {
                if (Complete() is { } done)
                {
                    yield return done;
                }

                package = line[9..].Trim();
                synopsis = null;
                description.Clear();
            }
            else if (line.StartsWith("Description-en: ", StringComparison.Ordinal))
            {
                synopsis = line[16..].Trim();
            }
            else if (synopsis is not null && line.StartsWith(' '))
            {
                description.Append(line == " ." ? "\n" : line[1..]).Append(' ');
            }
        }

        if (Complete() is { } last)
        {
            yield return last;
        }

        PackageDescription? Complete() =>
            package is not null && synopsis is not null ? new PackageDescription(package, synopsis, description.ToString().Trim()) : null;
    }

    /// <summary>
    /// Keeps one package per description family and drops short descriptions. Packages built from one source
    /// (<c>-dev</c>, <c>-doc</c>, <c>-data</c> …) share their first paragraph and add a sentence, so two descriptions
    /// whose normalised first paragraphs are equal count as one; so do two equal synopses, which would make a query
    /// ambiguous. The first package in file order (usually the family's main one) stays.
    /// </summary>
    public static List<PackageDescription> Clean(IEnumerable<PackageDescription> packages, int minimumWords)
    {
        var paragraphs = new HashSet<string>(StringComparer.Ordinal);
        var synopses = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<PackageDescription>();
        foreach (var package in packages)
        {
            var words = Words().Count(package.Description);
            if (words < minimumWords)
            {
                continue;
            }

            var firstParagraph = package.Description.Split('\n', 2)[0];
            if (paragraphs.Add(Normalise(firstParagraph)) & synopses.Add(Normalise(package.Synopsis)))
            {
                kept.Add(package with { Description = Spaces().Replace(package.Description, " ") });
            }
        }

        return kept;
    }

    private static string Normalise(string text) => NonWord().Replace(text.ToLowerInvariant(), " ").Trim();

    [GeneratedRegex(@"\w+")]
    private static partial Regex Words();

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}

/// <summary>One Debian package's English description: the one-line synopsis and the long description.</summary>
public sealed record PackageDescription(string Package, string Synopsis, string Description);
