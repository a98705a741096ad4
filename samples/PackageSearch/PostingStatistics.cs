namespace PackageSearch;

/// <summary>The size of an index's posting lists.</summary>
/// <param name="Postings">Postings in the index: the sum of all terms' document frequencies.</param>
/// <param name="MaxDocumentFrequency">The longest posting list.</param>
/// <param name="CommonTerms">Terms in more than 10% of the documents.</param>
/// <param name="DocumentFrequencies">Every term's document frequency, longest first.</param>
public sealed record PostingStatistics(long Postings, int MaxDocumentFrequency, int CommonTerms, int[] DocumentFrequencies);
