namespace PackageSearch;

/// <summary>The sizes and seed from which a <see cref="KnownItemCorpus"/> is built.</summary>
/// <param name="Seed">The seed of the splits and of the index order.</param>
/// <param name="EvaluationQueries">Held-out queries.</param>
/// <param name="ValidationQueries">Validation queries, carved from the training packages.</param>
/// <param name="FrequencySample">Documents from which DF-FLOPS estimates document frequencies.</param>
/// <param name="MaxDocuments">At most this many documents, or all.</param>
/// <param name="Stemming">Whether the learned models' terms are Porter stems (Lucene's English analyzer) rather than the standard analyzer's words.</param>
public sealed record CorpusSettings(int Seed, int EvaluationQueries, int ValidationQueries, int FrequencySample, int? MaxDocuments, bool Stemming = false);
