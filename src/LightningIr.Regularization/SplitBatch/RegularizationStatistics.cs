namespace LightningIr.Regularization;

/// <summary>
/// The additive statistics of a batch (or of part of one) that a regularizer's value depends on: summed over
/// the parts of a batch, or all-reduced across processes, they let each part compute its exact share of the
/// whole batch's loss.
/// </summary>
/// <remarks>
/// Made by <see cref="RegularizationLossFunction.CollectStatistics"/> and read by
/// <see cref="RegularizationLossFunction.ComputeLoss(BiEncoderOutput, RegularizationStatistics)"/>. No Lightning IR
/// counterpart: Lightning IR regularizes each micro-batch and each process separately. FLOPS (Paria et al.,
/// ICLR 2020, arXiv:2004.05665) keeps the column sums of |x| per side; L1 and L2 the number of vectors (a part's
/// share is its own norm sum over the whole batch's count). The values are float64, on the embeddings' device, and
/// join the caller's dispose scope.
/// </remarks>
public sealed class RegularizationStatistics : IDisposable
{
    private RegularizationStatistics(PackedValues packed) => Packed = packed;

    /// <summary>The number of query rows (the batch dimension) these statistics summarise.</summary>
    public long QueryCount => (long)Packed.HostCounts[0];

    /// <summary>The number of document rows (the batch dimension) these statistics summarise.</summary>
    public long DocCount => (long)Packed.HostCounts[1];

    /// <summary>The device the statistics live on: the embeddings' device.</summary>
    public Device Device => Packed.Device;

    /// <summary>The number of float64 values <see cref="AllReduce"/> hands to its delegate: the bytes on the wire are 8 × this.</summary>
    public long Length => Packed.Layout.Length;

    /// <summary>The packed values: the query and document row counts, then each side's statistics.</summary>
    internal PackedValues Packed { get; }

    private StatisticsLayout Layout => (StatisticsLayout)Packed.Layout;

    /// <summary>The query side's statistics, a view in the caller's dispose scope.</summary>
    internal Tensor Query => Packed.Values.narrow(0, 2, Layout.QueryLength).view(Layout.QueryStatistics);

    /// <summary>The document side's statistics, a view in the caller's dispose scope.</summary>
    internal Tensor Doc => Packed.Values.narrow(0, 2 + Layout.QueryLength, Layout.DocLength).view(Layout.DocStatistics);

    /// <summary>Sums parts of one batch.</summary>
    /// <param name="parts">Statistics collected by the same loss, with the same settings, from parts of one batch.</param>
    /// <returns>New statistics in the caller's dispose scope; the parts are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty, or two parts do not match.</exception>
    /// <exception cref="ObjectDisposedException">A part has been disposed.</exception>
    public static RegularizationStatistics Sum(IEnumerable<RegularizationStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new(PackedValues.Sum(parts.Select(p => (p ?? throw new ArgumentNullException(nameof(parts))).Packed), "statistics", nameof(parts)));
    }

    /// <summary>Adds the statistics of another part of the same batch.</summary>
    /// <param name="other">Statistics collected by the same loss, with the same settings.</param>
    /// <returns>New statistics in the caller's dispose scope; both operands are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    /// <exception cref="ArgumentException">The two do not match: another loss type, settings, vector shape or device.</exception>
    /// <exception cref="ObjectDisposedException">One of the two has been disposed.</exception>
    public RegularizationStatistics Add(RegularizationStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(Packed.Add(other.Packed, nameof(other)));
    }

    /// <summary>
    /// Sums these statistics across processes: hands <paramref name="allReduceSum"/> one 1-D float64 tensor of
    /// <see cref="Length"/> values (the counts, then both sides' statistics) and builds new statistics from the
    /// same-shaped tensor it returns. Reads the counts back to the host, once.
    /// </summary>
    /// <param name="allReduceSum">An all-reduce with the sum operation: MPI's <c>Allreduce</c>, or any other collective.</param>
    /// <returns>New statistics in the caller's dispose scope; these are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="allReduceSum"/> is null or returns null.</exception>
    /// <exception cref="ArgumentException">The returned tensor is not float64 of the same shape, or its counts are not whole numbers at least these counts.</exception>
    /// <exception cref="ObjectDisposedException">These statistics have been disposed.</exception>
    public RegularizationStatistics AllReduce(Func<Tensor, Tensor> allReduceSum) =>
        new(PackedValues.AllReduce([Packed], allReduceSum, nameof(allReduceSum))[0]);

    /// <summary>Moves the statistics' tensor to the dispose scope that encloses the current one, as <see cref="Tensor.MoveToOuterDisposeScope"/> does.</summary>
    /// <returns>This instance.</returns>
    public RegularizationStatistics MoveToOuterDisposeScope()
    {
        Packed.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes the statistics' tensor out of every dispose scope: the caller then disposes this instance.</summary>
    /// <returns>This instance.</returns>
    public RegularizationStatistics DetachFromDisposeScope()
    {
        Packed.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Disposes the statistics' tensor.</summary>
    public void Dispose() => Packed.Dispose();

    /// <summary>Packs a part's statistics: its row counts, then each side's statistics, in float64 on their device.</summary>
    internal static RegularizationStatistics Create(StatisticsLayout layout, Tensor query, Tensor doc, long queryCount, long docCount)
    {
        using var scope = NewDisposeScope();
        var counts = tensor(new double[] { queryCount, docCount }, ScalarType.Float64, query.device);
        var values = cat([counts, query.to(ScalarType.Float64).flatten(), doc.to(ScalarType.Float64).flatten()]).MoveToOuterDisposeScope();
        return new(new PackedValues(layout with { QueryStatistics = query.shape, DocStatistics = doc.shape }, values, [queryCount, docCount]));
    }

    /// <summary>Wraps values that a <see cref="TrainingObjectiveStatistics"/> all-reduced.</summary>
    internal static RegularizationStatistics Wrap(PackedValues packed) => new(packed);

    /// <summary>Throws unless these statistics were collected for <paramref name="other"/>'s loss and fit a part whose query embeddings are <paramref name="partQuery"/> and which has <paramref name="docRows"/> document rows.</summary>
    internal void CheckFits(StatisticsLayout other, Tensor partQuery, long docRows, string paramName)
    {
        Packed.ThrowIfDisposed();
        Layout.CheckSame(other, "the statistics", "this loss and part", paramName);
        var queryRows = partQuery.shape[0];
        if (QueryCount < queryRows || DocCount < docRows)
        {
            throw new ArgumentException(
                $"The whole-batch statistics summarise {QueryCount} query and {DocCount} document rows, fewer than this part's {queryRows} and {docRows}: collect them over every part, this one included.",
                paramName);
        }

        Guard.CheckSameDevice(Packed.Values, "statistics", partQuery, "part's embeddings", paramName);
    }
}
