using Lucene.Net.Search;

namespace PackageSearch;

/// <summary>A setting ready to be searched: its index and how it serves a query from its text.</summary>
/// <param name="Name">The setting's name in reports.</param>
/// <param name="Keyword">Whether it is a keyword baseline (BM25 and its variants) rather than a learned model.</param>
/// <param name="Index">The index to search.</param>
/// <param name="Serve">A query's text to its Lucene query: analysis, and for a learned model its query side and quantization.</param>
/// <param name="EncoderDocL0">A learned model's mean non-zeros per document vector before quantization; <see langword="null"/> for keyword rows.</param>
/// <param name="TrainingSeconds">How long the model trained (0 for keyword rows and the untrained start).</param>
/// <param name="Owned">What to dispose with the setting (a learned model's encoder).</param>
public sealed record SearchSetting(
    string Name, bool Keyword, SearchIndex Index, Func<string, Query> Serve, double? EncoderDocL0, double TrainingSeconds, IDisposable? Owned = null) : IDisposable
{
    public void Dispose()
    {
        Index.Dispose();
        Owned?.Dispose();
    }
}
