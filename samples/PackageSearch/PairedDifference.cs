namespace PackageSearch;

/// <summary>A paired difference of per-query scores with its 95% interval.</summary>
/// <param name="Mean">The mean difference.</param>
/// <param name="Low">The interval's lower end (the 2.5th percentile of the resampled means).</param>
/// <param name="High">The interval's upper end (the 97.5th percentile).</param>
public sealed record PairedDifference(double Mean, double Low, double High);
