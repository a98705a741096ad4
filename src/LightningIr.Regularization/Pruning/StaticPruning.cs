namespace LightningIr.Regularization;

/// <summary>
/// Static pruning of sparse vectors after training: each function cuts entries of every vector along the last dimension
/// and returns a tensor of the input's shape, dtype and device with zeros where entries were cut.
/// </summary>
/// <remarks>
/// <para>
/// The document-centric pruning of Lassance et al., "A Static Pruning Study on Sparse Neural Retrievers" (SIGIR 2023,
/// arXiv:2304.12702). Lightning IR has no counterpart;
/// <see cref="TopK"/> is sentence-transformers' <c>SparseEncoder(max_active_dims=k)</c>, and <see cref="TopK"/>,
/// <see cref="MaxRatio"/>, <see cref="WeightMass"/> and <see cref="Threshold"/> are OpenSearch's <c>prune_type</c>
/// <c>top_k</c>, <c>max_ratio</c>, <c>alpha_mass</c> and <c>abs_value</c>. The index-wide cuts are in
/// <see cref="IndexPruning"/>.
/// </para>
/// <para>
/// An entry's impact is its magnitude <c>|x|</c>. Vectors that a scoring mask marks as padding come back all zero. The
/// result is differentiable: kept entries pass their gradient through unchanged, cut entries get none, and the choice
/// of what to keep carries no gradient. Each call reads one value back to the host, to refuse NaN or infinite entries.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var served = StaticPruning.TopK(docs, 128);   // max_active_dims = 128
/// </code>
/// </example>
public static class StaticPruning
{
    private static readonly long[] LastDim = [-1];

    /// <summary>Keeps each vector's <paramref name="k"/> entries of largest magnitude; among equal magnitudes the lower index is kept.</summary>
    /// <remarks>OpenSearch's <c>prune_type: top_k</c>; sentence-transformers' <c>max_active_dims</c>. Costs one <c>topk</c> of k + 1 entries and one scatter; a vector whose k-th magnitude is non-zero and tied with an entry left out takes a few element-wise passes more, to keep the lower indices.</remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="k">How many entries each vector keeps, from 1 to <c>dim</c>. Where a vector has fewer non-zero entries, all of them stay.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vectors"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or above <c>dim</c>.</exception>
    public static Tensor TopK(Tensor vectors, long k, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        var dim = vectors.shape[^1];
        if (k < 1 || k > dim)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the vectors' length {dim}, but was {k}.");
        }

        using var scope = NewDisposeScope();
        var impact = vectors.detach().abs();

        // One entry more than asked shows whether an entry left out ties with the k-th; only then (and only for a
        // non-zero k-th, since cutting one zero or another changes nothing) does topk's own choice among ties matter.
        var (top, index) = impact.topk((int)Math.Min(k + 1, dim));
        var kth = top.narrow(-1, k - 1, 1);
        var contested = k < dim
            ? top.narrow(-1, k, 1).eq(kth).logical_and(kth.gt(0)).any()
            : zeros(1, ScalarType.Bool, vectors.device).any();
        var flags = ReadFlags(top.narrow(-1, 0, 1).isfinite().all(), contested);
        ThrowUnlessFinite(flags[0]);
        if (!flags[1])
        {
            var kept = index.narrow(-1, 0, k);
            var pruned = zeros_like(vectors).scatter(-1, kept, vectors.gather(-1, kept));
            return Mask(pruned, scoringMask).MoveToOuterDisposeScope();
        }

        var above = impact.gt(kth);
        var tied = impact.eq(kth);
        var wanted = above.sum(LastDim, keepdim: true).neg().add(k);
        var keep = above.logical_or(tied.logical_and(tied.cumsum(-1).le(wanted)));
        return Apply(vectors, keep, scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>Cuts the entries whose magnitude is below <paramref name="ratio"/> times the largest magnitude of their vector.</summary>
    /// <remarks>OpenSearch's <c>prune_type: max_ratio</c>. A ratio of 1 keeps each vector's largest entries only.</remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="ratio">The share of the vector's largest magnitude an entry needs to stay, in (0, 1].</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vectors"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is not in (0, 1].</exception>
    public static Tensor MaxRatio(Tensor vectors, double ratio, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        CheckShare(ratio, nameof(ratio));
        using var scope = NewDisposeScope();
        var impact = vectors.detach().abs();
        var maxima = impact.amax(LastDim, keepdim: true);
        ThrowUnlessFinite(ReadFlags(maxima.isfinite().all())[0]);
        var keep = impact.ge(maxima.mul(ratio));
        return Apply(vectors, keep, scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Keeps each vector's largest entries until they hold <paramref name="mass"/> of its total magnitude, and cuts the
    /// smaller rest: an entry stays when the entries ranked above it (by magnitude, the lower index first among equals)
    /// sum to less than <c>mass · Σ|x|</c>.
    /// </summary>
    /// <remarks>OpenSearch's <c>prune_type: alpha_mass</c>. Sums in float64; a mass of 1 keeps every non-zero entry. Costs one sort of each vector.</remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="mass">The share of each vector's total magnitude the kept entries must reach, in (0, 1].</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vectors"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mass"/> is not in (0, 1].</exception>
    public static Tensor WeightMass(Tensor vectors, double mass, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        CheckShare(mass, nameof(mass));
        using var scope = NewDisposeScope();
        var impact = CheckedImpact(vectors);
        if (mass == 1)
        {
            return Apply(vectors, impact.gt(0), scoringMask).MoveToOuterDisposeScope();
        }

        var (sorted, order) = impact.sort(-1, descending: true, stable: true);
        var sorted64 = sorted.to(ScalarType.Float64);
        var running = sorted64.cumsum(-1);
        var total = running.narrow(-1, vectors.shape[^1] - 1, 1);
        var keepSorted = running.sub(sorted64).lt(total.mul(mass));
        var keep = zeros_like(keepSorted).scatter(-1, order, keepSorted);
        return Apply(vectors, keep, scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>Cuts the entries whose magnitude is at most <paramref name="threshold"/>.</summary>
    /// <remarks>
    /// OpenSearch's <c>prune_type: abs_value</c>, except that an entry equal to the threshold is cut (OpenSearch keeps it),
    /// so that a threshold from <see cref="IndexPruning.CollectionThreshold"/> keeps at most the entries it promised and a
    /// threshold of 0 cuts nothing.
    /// </remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="threshold">The largest magnitude that is cut, finite and ≥ 0.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vectors"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor or mask is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is negative, NaN or infinite.</exception>
    public static Tensor Threshold(Tensor vectors, double threshold, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        if (!double.IsFinite(threshold) || threshold < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(threshold), threshold, $"A pruning threshold must be a finite number ≥ 0, but was {threshold}.");
        }

        using var scope = NewDisposeScope();
        return Apply(vectors, CheckedImpact(vectors).gt(threshold), scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>Term-centric cut: cuts the entries of term j whose magnitude is at most <c>termThresholds[j]</c>.</summary>
    /// <remarks>
    /// With the thresholds of <see cref="IndexPruning.TermTopKThresholds"/>, each posting list keeps at most its k largest
    /// entries: the term-centric pruning of Lassance et al. (SIGIR 2023).
    /// </remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="termThresholds">A tensor of <c>dim</c> thresholds (shape <c>[dim]</c>), on the vectors' device.</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A tensor or the mask is not as described, or an entry is NaN or infinite.</exception>
    public static Tensor TermThreshold(Tensor vectors, Tensor termThresholds, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        CheckPerTerm(termThresholds, vectors, nameof(termThresholds));
        using var scope = NewDisposeScope();
        return Apply(vectors, CheckedImpact(vectors).gt(termThresholds), scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>Term-centric cut: cuts the entries of term j whose magnitude is below <paramref name="ratio"/> times <c>termMaxima[j]</c>.</summary>
    /// <remarks>
    /// With the maxima of <see cref="IndexPruning.TermMaxima"/>, each posting list keeps the entries within a ratio of its
    /// largest: the term-centric pruning of Lassance et al. (SIGIR 2023), OpenSearch's <c>max_ratio</c> applied per term.
    /// </remarks>
    /// <param name="vectors">A floating-point tensor shaped <c>[batch, ..., dim]</c> with finite entries.</param>
    /// <param name="termMaxima">A tensor of <c>dim</c> largest magnitudes (shape <c>[dim]</c>), on the vectors' device.</param>
    /// <param name="ratio">The share of its term's largest magnitude an entry needs to stay, in (0, 1].</param>
    /// <param name="scoringMask">An optional boolean mask shaped like <paramref name="vectors"/> without its last dimension; false vectors come back all zero.</param>
    /// <returns>The pruned vectors, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A tensor or the mask is not as described, or an entry is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is not in (0, 1].</exception>
    public static Tensor TermMaxRatio(Tensor vectors, Tensor termMaxima, double ratio, Tensor? scoringMask = null)
    {
        Check(vectors, scoringMask);
        CheckPerTerm(termMaxima, vectors, nameof(termMaxima));
        CheckShare(ratio, nameof(ratio));
        using var scope = NewDisposeScope();
        var keep = CheckedImpact(vectors).ge(termMaxima.mul(ratio));
        return Apply(vectors, keep, scoringMask).MoveToOuterDisposeScope();
    }

    /// <summary>The vectors with every entry outside <paramref name="keep"/> (or in a masked vector) set to zero.</summary>
    private static Tensor Apply(Tensor vectors, Tensor keep, Tensor? scoringMask)
    {
        if (scoringMask is not null)
        {
            keep = keep.logical_and(scoringMask.unsqueeze(-1));
        }

        return where(keep, vectors, zeros_like(vectors));
    }

    /// <summary>The pruned vectors with the masked ones set to zero.</summary>
    private static Tensor Mask(Tensor pruned, Tensor? scoringMask)
        => scoringMask is null ? pruned : where(scoringMask.unsqueeze(-1), pruned, zeros_like(pruned));

    /// <summary>The magnitudes, after refusing NaN or infinite entries: one reduction and one host read.</summary>
    private static Tensor CheckedImpact(Tensor vectors)
    {
        var impact = vectors.detach().abs();
        ThrowUnlessFinite(ReadFlags(impact.amax().isfinite())[0]);
        return impact;
    }

    /// <summary>Copies boolean flags to the host in one read.</summary>
    private static bool[] ReadFlags(params Tensor[] flags)
    {
        using var host = stack(flags.Select(f => f.reshape(1)).ToArray()).cpu();
        return host.data<bool>().ToArray();
    }

    private static void ThrowUnlessFinite(bool finite, string paramName = "vectors")
    {
        if (!finite)
        {
            throw new ArgumentException(
                "The vectors to prune hold NaN or infinite entries; pruning ranks entries by magnitude, which needs finite values.",
                paramName);
        }
    }

    private static void Check(Tensor vectors, Tensor? scoringMask)
    {
        Guard.CheckEmbeddings(vectors, "input", nameof(vectors));
        if (scoringMask is not null)
        {
            Guard.CheckScoringMask(scoringMask, vectors, "input", nameof(scoringMask));
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is in (0, 1].</summary>
    internal static void CheckShare(double value, string paramName)
    {
        if (!(value > 0 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be in (0, 1], but was {value}.");
        }
    }

    private static void CheckPerTerm(Tensor perTerm, Tensor vectors, string paramName)
    {
        ArgumentNullException.ThrowIfNull(perTerm, paramName);
        if (perTerm.IsInvalid)
        {
            throw new ArgumentException($"The {paramName} tensor has been disposed.", paramName);
        }

        if (perTerm.dtype != vectors.dtype)
        {
            throw new ArgumentException(
                $"{paramName} must have the vectors' dtype {vectors.dtype}, but has dtype {perTerm.dtype}.", paramName);
        }

        var dim = vectors.shape[^1];
        if (perTerm.dim() != 1 || perTerm.shape[0] != dim)
        {
            throw new ArgumentException(
                $"{paramName} must hold one value per term, shape [{dim}], but has shape {Guard.Format(perTerm.shape)}.", paramName);
        }

        Guard.CheckSameDevice(perTerm, paramName, vectors, "vectors", paramName);
    }
}
