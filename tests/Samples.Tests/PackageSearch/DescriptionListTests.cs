using FluentAssertions;
using K4os.Compression.LZ4.Streams;
using PackageSearch;
using Xunit;

namespace PackageSearch.Tests;

public sealed class DescriptionListTests : IDisposable
{
    private const string List = """
        Package: 0ad
        Description-md5: d943033bedada21853d2ae54a2578a7b
        Description-en: Real-time strategy game of ancient warfare
         0 A.D. is a free, open-source, cross-platform real-time strategy game
         of ancient warfare.
         .
         It runs on many systems.

        Package: 0ad-data
        Description-md5: 26581e685027d5ae84824362a4ba59ee
        Description-en: Real-time strategy game of ancient warfare (data files)
         0 A.D. is a free, open-source, cross-platform real-time strategy game
         of ancient warfare.
         .
         This package contains the main data files.

        Package: tiny
        Description-md5: 00000000000000000000000000000000
        Description-en: A package with a short description
         Too short.

        """;

    private readonly string folder = Directory.CreateTempSubdirectory("package-search-tests").FullName;

    [Fact]
    public void Read_parses_synopsis_and_long_description_with_paragraphs()
    {
        var packages = PackageDescriptions.Read(Write("Translation-en", List)).ToList();

        packages.Select(p => p.Package).Should().Equal("0ad", "0ad-data", "tiny");
        packages[0].Synopsis.Should().Be("Real-time strategy game of ancient warfare");
        packages[0].Description.Should().Be("0 A.D. is a free, open-source, cross-platform real-time strategy game of ancient warfare. \n It runs on many systems.");
        packages[2].Description.Should().Be("Too short.");
    }

    [Fact]
    public void Read_decompresses_lz4_lists_like_apts()
    {
        var path = Path.Combine(folder, "Translation-en.lz4");
        using (var stream = LZ4Stream.Encode(File.Create(path)))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(List);
        }

        PackageDescriptions.Read(path).Should().BeEquivalentTo(PackageDescriptions.Read(Write("plain", List)), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Clean_keeps_one_package_per_first_paragraph_and_drops_short_descriptions()
    {
        var cleaned = PackageDescriptions.Clean(PackageDescriptions.Read(Write("Translation-en", List)), minimumWords: 5);

        cleaned.Select(p => p.Package).Should().Equal("0ad");
        cleaned[0].Description.Should().NotContain("\n", "whitespace is collapsed once the paragraphs have been compared");
    }

    [Fact]
    public void Clean_drops_a_repeated_synopsis_even_with_a_new_description()
    {
        var packages = new[]
        {
            new PackageDescription("a", "Shared synopsis", "first description with quite a few words in it"),
            new PackageDescription("b", "shared  SYNOPSIS!", "second description with quite a few other words in it"),
        };

        PackageDescriptions.Clean(packages, minimumWords: 3).Select(p => p.Package).Should().Equal("a");
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
