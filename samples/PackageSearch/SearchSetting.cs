using Lucene.Net.Search;

namespace PackageSearch;

/// <summary>A setting ready to be searched: its index and how it serves a query from its text.</summary>
/// <param name="Name">The setting's name in reports.</param>
/// <param name="Kind">What the row is: a keyword baseline, the untrained start, a trained model or a pruned one.</param>
/// <param name="Index">The index to search.</param>
/// <param name="Serve">A query's text to its Lucene query: analysis, and for a learned model its query side and quantization.</param>
/// <param name="EncoderDocL0">A learned model's mean non-zeros per document vector before quantization; <see langword="null"/> for keyword rows.</param>
/// <param name="TrainingSeconds">How long the model trained (0 for keyword rows and the untrained start).</param>
/// <param name="Owned">What to dispose with the setting (a learned model's encoder); a pruned row borrows its source's.</param>
public sealed record SearchSetting(
    string Name, SettingKind Kind, SearchIndex Index, Func<string, Query> Serve, double? EncoderDocL0, double TrainingSeconds, IDisposable? Owned = null) : IDisposable
{
    /// <summary>For a pruned row, the setting whose documents were cut; otherwise <see langword="null"/>.</summary>
    public string? PrunedFrom { get; init; }

    /// <summary>For a pruned row, the method that cut it (a name of <see cref="PrunedBaselines.Methods"/>); otherwise <see langword="null"/>.</summary>
    public string? PrunedBy { get; init; }

    public void Dispose()
    {
        Index.Dispose();
        Owned?.Dispose();
    }
}

/// <summary>What a row of the comparison is.</summary>
public enum SettingKind
{
    /// <summary>A keyword baseline: BM25 over Lucene's analyzers.</summary>
    Keyword,

    /// <summary>The encoder's untrained start: BM25 with exact document lengths in an impact index.</summary>
    Start,

    /// <summary>A trained model, served as it came out of training.</summary>
    Trained,

    /// <summary>A model cut after training (or the start, cut) to a trained row's postings.</summary>
    Pruned,
}
