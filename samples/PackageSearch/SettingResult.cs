namespace PackageSearch;

/// <summary>What one setting (a keyword baseline or a learned model) costs and achieves on the reported queries.</summary>
/// <param name="Setting">The setting's name.</param>
/// <param name="Kind">What the row is: a keyword baseline, the untrained start, a trained model or a pruned one.</param>
/// <param name="Mrr10">MRR@10.</param>
/// <param name="Recall100">Recall@100.</param>
/// <param name="DocL0">Postings per document: the terms the index holds per document.</param>
/// <param name="QueryL0">Clauses per query as served (for a learned model, after quantization).</param>
/// <param name="EncoderDocL0">A learned model's non-zeros per document vector before quantization (the training-side figure).</param>
/// <param name="Postings">The index's posting lists.</param>
/// <param name="SearchMedianMilliseconds">The median time of Lucene's search alone.</param>
/// <param name="SearchP95Milliseconds">Its 95th percentile.</param>
/// <param name="EndToEndMedianMilliseconds">The median time from the query's text to its top 100: analysis, the query side, quantization and search.</param>
/// <param name="EndToEndP95Milliseconds">Its 95th percentile.</param>
/// <param name="PostingsVisited">Postings the query's disjunction reads, per query.</param>
/// <param name="TrainingSeconds">How long the model trained.</param>
/// <param name="ReciprocalRanks">Each query's reciprocal rank within the top 10 (0 beyond), for paired comparisons.</param>
public sealed record SettingResult(
    string Setting,
    SettingKind Kind,
    double Mrr10,
    double Recall100,
    double DocL0,
    double QueryL0,
    double? EncoderDocL0,
    PostingStatistics Postings,
    double SearchMedianMilliseconds,
    double SearchP95Milliseconds,
    double EndToEndMedianMilliseconds,
    double EndToEndP95Milliseconds,
    double PostingsVisited,
    double TrainingSeconds,
    double[] ReciprocalRanks)
{
    /// <summary>For a pruned row, the setting whose documents were cut.</summary>
    public string? PrunedFrom { get; init; }

    /// <summary>For a pruned row, the method that cut it (a name of <see cref="PrunedBaselines.Methods"/>).</summary>
    public string? PrunedBy { get; init; }

    /// <summary>Whether the row is a keyword baseline.</summary>
    public bool IsKeyword => Kind == SettingKind.Keyword;

    /// <summary>
    /// For a trained row, the best pruned row (by MRR@10) whose postings are within 2% of its own; <see langword="null"/>
    /// when there is none.
    /// </summary>
    public string? MatchedPruned { get; init; }

    /// <summary>A trained row's paired difference against <see cref="MatchedPruned"/>.</summary>
    public PairedDifference? VersusMatchedPruned { get; init; }

    /// <summary>A trained row's paired difference against the untrained start.</summary>
    public PairedDifference? VersusStart { get; init; }

    /// <summary>A learned row's paired difference in MRR@10 against BM25; <see langword="null"/> for keyword rows.</summary>
    public PairedDifference? VersusBm25 { get; init; }

    /// <summary>A learned row's paired difference against the run's best keyword baseline; <see langword="null"/> for keyword rows.</summary>
    public PairedDifference? VersusBestKeyword { get; init; }
}
