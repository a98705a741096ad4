using System.Text.RegularExpressions;
using FluentAssertions;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Xunit;

namespace Documentation.Tests;

/// <summary>Every relative link and image in the repository's Markdown files resolves: to a file, and to a heading where it names one.</summary>
public sealed partial class LinkTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> MarkdownFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Files())
        {
            data.Add(file);
        }

        return data;
    }

    private static List<string> Files()
        => Directory.EnumerateFiles(Root, "*.md", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(Root, f).Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj" or ".git" or "StrykerOutput" or "BenchmarkDotNet.Artifacts" or "out"))
            .Select(f => Path.GetRelativePath(Root, f))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void The_front_page_and_the_guides_are_found()
    {
        var files = Files();
        files.Should().Contain(["README.md", Path.Combine("docs", "losses.md"), Path.Combine("benchmarks", "README.md")]);
    }

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void Relative_links_and_images_resolve(string file)
    {
        var path = Path.Combine(Root, file);
        var document = Markdown.Parse(File.ReadAllText(path), new MarkdownPipelineBuilder().UseAdvancedExtensions().Build());
        var broken = new List<string>();
        foreach (var link in document.Descendants<LinkInline>())
        {
            var url = link.Url;
            if (string.IsNullOrEmpty(url) || url.Contains("://", StringComparison.Ordinal) || url.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = url.IndexOf('#', StringComparison.Ordinal);
            var target = hash < 0 ? url : url[..hash];
            var anchor = hash < 0 ? null : url[(hash + 1)..];
            var resolved = target.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(target)));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{url}: no file {Path.GetRelativePath(Root, resolved)}");
            }
            else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(resolved)).Contains(anchor))
            {
                broken.Add($"{url}: no heading #{anchor} in {Path.GetRelativePath(Root, resolved)}");
            }
        }

        broken.Should().BeEmpty($"every relative link and image in {file} resolves");
    }

    [Theory]
    [InlineData("Troubleshooting: TorchSharp does not load on Debian 12 or Ubuntu 22.04", "troubleshooting-torchsharp-does-not-load-on-debian-12-or-ubuntu-2204")]
    [InlineData("Penalties: one formula in one place", "penalties-one-formula-in-one-place")]
    [InlineData("Split batches and MPI", "split-batches-and-mpi")]
    public void Anchors_are_GitHubs_heading_slugs(string heading, string slug) => Slug(heading).Should().Be(slug);

    /// <summary>GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string heading) => NotSlug().Replace(heading.ToLowerInvariant(), string.Empty).Replace(' ', '-');

    [Fact]
    public void Headings_that_mix_text_and_code_keep_their_order()
        => Anchors("# Weights\n\n## The `Sides` of a `SparsityBudget` today\n").Should().BeEquivalentTo(["weights", "the-sides-of-a-sparsitybudget-today"]);

    /// <summary>The anchors of a Markdown text's headings: the slug of each heading's text and code, in order.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var document = Markdown.Parse(markdown);
        return document.Descendants<HeadingBlock>()
            .Select(h => Slug(string.Concat((h.Inline?.Descendants() ?? []).Select(i => i switch
            {
                LiteralInline literal => literal.Content.ToString(),
                CodeInline code => code.Content,
                _ => string.Empty,
            }))))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LightningIr.Regularization.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (with LightningIr.Regularization.sln) is not above the test's folder.");
    }

    [GeneratedRegex(@"[^\p{L}\p{N} _-]")]
    private static partial Regex NotSlug();
}
