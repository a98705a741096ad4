namespace LightningIr.Regularization;

/// <summary>
/// What a <see cref="SparsityBudget"/> measures of a batch, or of part of one, as additive counts: per side the number
/// of vectors and of their non-zero entries and, for a FLOPS target, in how many vectors each term is non-zero. Summed
/// over micro-batches, or all-reduced across processes, they measure the whole batch exactly.
/// </summary>
/// <remarks>
/// Made by <see cref="SparsityBudget.Measure"/> and read by <see cref="SparsityBudget.Update(SparsityMeasurement)"/>.
/// No Lightning IR counterpart. The counts are float64 (exact up to 2⁵³), on the embeddings' device, and join the
/// caller's dispose scope; nothing is read to the host until the update, or an all-reduce's check of its counts.
/// </remarks>
public sealed class SparsityMeasurement : IDisposable
{
    internal SparsityMeasurement(Tensor values, long vectorLength, string targets)
        : this(new PackedValues(new MeasurementLayout(values.shape[0], vectorLength, targets), values, []))
    {
    }

    private SparsityMeasurement(PackedValues packed) => Packed = packed;

    /// <summary>The length of the measured vectors (the embeddings' last dimension), against which targets are checked.</summary>
    public long VectorLength => Layout.VectorLength;

    /// <summary>The number of float64 values <see cref="AllReduce"/> hands to its delegate: the bytes on the wire are 8 × this.</summary>
    public long Length => Layout.Length;

    /// <summary>The device the counts live on: the embeddings' device.</summary>
    public Device Device => Packed.Device;

    /// <summary>The targets of the budget that made the measurement, which the update and the sums check.</summary>
    internal string Targets => Layout.Targets;

    /// <summary>
    /// The packed counts: query vectors, query non-zeros, document vectors, document non-zeros, the finiteness witness, then (for a FLOPS target)
    /// the per-term counts of the query vectors and of the document vectors.
    /// </summary>
    internal Tensor Values => Packed.Values;

    private PackedValues Packed { get; }

    private MeasurementLayout Layout => (MeasurementLayout)Packed.Layout;

    /// <summary>Sums the measurements of the parts of one batch.</summary>
    /// <param name="parts">Measurements made by budgets with the same targets, of vectors of the same length.</param>
    /// <returns>A new measurement in the caller's dispose scope; the parts are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty, or two parts do not match.</exception>
    /// <exception cref="ObjectDisposedException">A part has been disposed.</exception>
    public static SparsityMeasurement Sum(IEnumerable<SparsityMeasurement> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new(PackedValues.Sum(parts.Select(p => (p ?? throw new ArgumentNullException(nameof(parts))).Packed), "measurements", nameof(parts)));
    }

    /// <summary>Adds the measurement of another part of the same batch.</summary>
    /// <param name="other">A measurement made by a budget with the same targets, of vectors of the same length.</param>
    /// <returns>A new measurement in the caller's dispose scope; both operands are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    /// <exception cref="ArgumentException">The two measure different things, vectors of different lengths, or live on different devices.</exception>
    /// <exception cref="ObjectDisposedException">One of the two has been disposed.</exception>
    public SparsityMeasurement Add(SparsityMeasurement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(Packed.Add(other.Packed, nameof(other)));
    }

    /// <summary>
    /// Sums the measurement across processes: hands <paramref name="allReduceSum"/> one 1-D float64 tensor of
    /// <see cref="Length"/> values and wraps the same-shaped tensor it returns, once its counts are checked (one host read).
    /// </summary>
    /// <param name="allReduceSum">An all-reduce with the sum operation: MPI's <c>Allreduce</c>, or any other collective.</param>
    /// <returns>A new measurement in the caller's dispose scope; this one is left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="allReduceSum"/> is null or returns null.</exception>
    /// <exception cref="ArgumentException">The returned tensor is not a live 1-D float64 tensor of <see cref="Length"/> values, or its counts are not whole numbers at least this process's.</exception>
    /// <exception cref="ObjectDisposedException">This measurement has been disposed.</exception>
    public SparsityMeasurement AllReduce(Func<Tensor, Tensor> allReduceSum) =>
        new(PackedValues.AllReduce([Packed], allReduceSum, nameof(allReduceSum))[0]);

    /// <summary>Moves the counts to the dispose scope that encloses the current one, as <see cref="Tensor.MoveToOuterDisposeScope"/> does.</summary>
    /// <returns>This instance.</returns>
    public SparsityMeasurement MoveToOuterDisposeScope()
    {
        Packed.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes the counts out of every dispose scope: the caller then disposes this instance.</summary>
    /// <returns>This instance.</returns>
    public SparsityMeasurement DetachFromDisposeScope()
    {
        Packed.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Disposes the counts.</summary>
    public void Dispose() => Packed.Dispose();

    internal void ThrowIfDisposed() => Packed.ThrowIfDisposed();

    /// <summary>A measurement's layout: its number of counts, the vectors' length and the measuring budget's targets.</summary>
    private sealed record MeasurementLayout(long Count, long VectorLength, string Targets) : PackedLayout
    {
        internal override string Noun => "Measurements";

        internal override string Item => "measurement";

        internal override Type Owner => typeof(SparsityMeasurement);

        internal override string Advice => "Measure every part with the same budget.";

        internal override long Length => Count;

        // Every value but the finiteness witness is a count.
        internal override IReadOnlyList<(long Start, long Length)> Counts =>
            [(0, SparsityCounts.Witness), (SparsityCounts.Witness + 1, Count - SparsityCounts.Witness - 1)];

        internal override string? Difference(PackedLayout other, string these, string those)
        {
            var layout = (MeasurementLayout)other;
            return layout == this ? null
                : $"one holds {Count} counts of vectors of {VectorLength} terms for {Targets}, the other {layout.Count} of {layout.VectorLength} for {layout.Targets}";
        }
    }
}
