namespace PackageSearch;

/// <summary>A text's non-zero term weights, term ids ascending.</summary>
public sealed record SparseVector(int[] Terms, float[] Weights);
