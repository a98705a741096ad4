namespace LightningIr.Regularization;

/// <summary>
/// One impact threshold for a whole collection, found by <see cref="IndexPruning.CollectionThreshold"/>: cut every entry
/// whose magnitude is at most <see cref="Threshold"/> (with <see cref="StaticPruning.Threshold"/>) and
/// <see cref="Kept"/> non-zero entries stay.
/// </summary>
/// <remarks>
/// The agnostic pruning of Lassance et al., "A Static Pruning Study on Sparse Neural Retrievers" (SIGIR 2023,
/// arXiv:2304.12702); no Lightning IR counterpart.
/// </remarks>
/// <param name="Threshold">The largest magnitude that is cut: exactly a magnitude present in the collection, or 0 when every non-zero entry stays.</param>
/// <param name="Kept">How many non-zero entries have a magnitude above <see cref="Threshold"/>; fewer than asked for when entries tie at the threshold.</param>
/// <param name="NonZero">How many non-zero entries the collection holds.</param>
/// <param name="Passes">How many times the batches were read.</param>
public sealed record PruningThreshold(double Threshold, long Kept, long NonZero, int Passes);
