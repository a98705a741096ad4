namespace PackageSearch;

/// <summary>A text as a bag of vocabulary terms: term ids ascending, each with its frequency in the text.</summary>
public sealed record TermBag(int[] Terms, float[] Frequencies, int Length);
