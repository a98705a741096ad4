namespace LightningIr.Regularization;

/// <summary>
/// What a <see cref="SparsityBudget"/> measures of a batch, or of part of one, as additive counts: per side the number
/// of vectors and of their non-zero entries and, for a FLOPS target, in how many vectors each term is non-zero. Summed
/// over micro-batches, or all-reduced across processes, they measure the whole batch exactly.
/// </summary>
/// <remarks>
/// Made by <see cref="SparsityBudget.Measure"/> and read by <see cref="SparsityBudget.Update(SparsityMeasurement)"/>.
/// No Lightning IR counterpart. The counts are float64 (exact up to 2⁵³), on the embeddings' device, and join the
/// caller's dispose scope; nothing is read to the host until the update.
/// </remarks>
public sealed class SparsityMeasurement : IDisposable
{
    internal SparsityMeasurement(Tensor values, long vectorLength, string targets)
    {
        Values = values;
        VectorLength = vectorLength;
        Targets = targets;
    }

    /// <summary>The targets of the budget that made the measurement, which the update and the sums check.</summary>
    internal string Targets { get; }

    /// <summary>The length of the measured vectors (the embeddings' last dimension), against which targets are checked.</summary>
    public long VectorLength { get; }

    /// <summary>The number of float64 values <see cref="AllReduce"/> hands to its delegate: the bytes on the wire are 8 × this.</summary>
    public long Length => Values.shape[0];

    /// <summary>The device the counts live on: the embeddings' device.</summary>
    public Device Device => Values.device;

    /// <summary>
    /// The packed counts: query vectors, query non-zeros, document vectors, document non-zeros, the finiteness witness, then (for a FLOPS target)
    /// the per-term counts of the query vectors and of the document vectors.
    /// </summary>
    internal Tensor Values { get; }

    /// <summary>Sums the measurements of the parts of one batch.</summary>
    /// <param name="parts">Measurements made by budgets with the same targets, of vectors of the same length.</param>
    /// <returns>A new measurement in the caller's dispose scope; the parts are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty, or two parts do not match.</exception>
    /// <exception cref="ObjectDisposedException">A part has been disposed.</exception>
    public static SparsityMeasurement Sum(IEnumerable<SparsityMeasurement> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        SparsityMeasurement? total = null;
        using var scope = NewDisposeScope();
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part, nameof(parts));
            total = total is null ? part.Clone() : total.Add(part);
        }

        return total?.MoveToOuterDisposeScope()
            ?? throw new ArgumentException("There are no measurements to sum: pass at least one part.", nameof(parts));
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
        ThrowIfDisposed();
        other.ThrowIfDisposed();
        if (other.Length != Length || other.VectorLength != VectorLength || other.Targets != Targets)
        {
            throw new ArgumentException(
                $"Measurements do not match: one holds {Length} counts of vectors of {VectorLength} terms for {Targets}, the other {other.Length} of {other.VectorLength} for {other.Targets}. "
                + "Measure every part with the same budget.",
                nameof(other));
        }

        Guard.CheckSameDevice(Values, "measurement", other.Values, "other measurement", nameof(other));
        return new SparsityMeasurement(Values.add(other.Values), VectorLength, Targets);
    }

    /// <summary>
    /// Sums the measurement across processes: hands <paramref name="allReduceSum"/> one 1-D float64 tensor of
    /// <see cref="Length"/> values and wraps the same-shaped tensor it returns. Reads nothing to the host: the update
    /// checks the counts.
    /// </summary>
    /// <param name="allReduceSum">An all-reduce with the sum operation: MPI's <c>Allreduce</c>, or any other collective.</param>
    /// <returns>A new measurement in the caller's dispose scope; this one is left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="allReduceSum"/> is null or returns null.</exception>
    /// <exception cref="ArgumentException">The returned tensor is not a live 1-D float64 tensor of <see cref="Length"/> values.</exception>
    /// <exception cref="ObjectDisposedException">This measurement has been disposed.</exception>
    public SparsityMeasurement AllReduce(Func<Tensor, Tensor> allReduceSum)
    {
        ArgumentNullException.ThrowIfNull(allReduceSum);
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var reduced = allReduceSum(Values.clone()) ?? throw new ArgumentNullException(nameof(allReduceSum), "The all-reduce delegate returned null.");
        RegularizationStatistics.CheckPacked(reduced, Length, nameof(allReduceSum));
        return new SparsityMeasurement(reduced.to(Values.device).clone(), VectorLength, Targets).MoveToOuterDisposeScope();
    }

    /// <summary>Moves the counts to the dispose scope that encloses the current one, as <see cref="Tensor.MoveToOuterDisposeScope"/> does.</summary>
    /// <returns>This instance.</returns>
    public SparsityMeasurement MoveToOuterDisposeScope()
    {
        Values.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes the counts out of every dispose scope: the caller then disposes this instance.</summary>
    /// <returns>This instance.</returns>
    public SparsityMeasurement DetachFromDisposeScope()
    {
        Values.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Disposes the counts.</summary>
    public void Dispose() => Values.Dispose();

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Values.IsInvalid, this);

    private SparsityMeasurement Clone()
    {
        ThrowIfDisposed();
        return new SparsityMeasurement(Values.clone(), VectorLength, Targets);
    }
}
