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
/// share is its own norm sum over the whole batch's count). The tensors are float64, on the embeddings' device, and
/// join the caller's dispose scope.
/// </remarks>
public sealed class RegularizationStatistics : IDisposable
{
    private readonly StatisticsLayout layout;

    internal RegularizationStatistics(StatisticsLayout layout, Tensor query, Tensor doc, long queryCount, long docCount)
    {
        this.layout = layout;
        Query = query;
        Doc = doc;
        QueryCount = queryCount;
        DocCount = docCount;
    }

    /// <summary>The number of query rows (the batch dimension) these statistics summarise.</summary>
    public long QueryCount { get; }

    /// <summary>The number of document rows (the batch dimension) these statistics summarise.</summary>
    public long DocCount { get; }

    /// <summary>The device the statistics live on: the embeddings' device.</summary>
    public Device Device => Query.device;

    internal Tensor Query { get; }

    internal Tensor Doc { get; }

    /// <summary>The number of float64 values <see cref="AllReduce"/> hands to its delegate: the bytes on the wire are 8 × this.</summary>
    public long Length => 2 + Query.numel() + Doc.numel();

    /// <summary>Sums parts of one batch.</summary>
    /// <param name="parts">Statistics collected by the same loss, with the same settings, from parts of one batch.</param>
    /// <returns>New statistics in the caller's dispose scope; the parts are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty, or two parts do not match.</exception>
    /// <exception cref="ObjectDisposedException">A part has been disposed.</exception>
    public static RegularizationStatistics Sum(IEnumerable<RegularizationStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        RegularizationStatistics? total = null;
        using var scope = NewDisposeScope();
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part, nameof(parts));
            total = total is null ? part.Clone() : total.Add(part);
        }

        return total?.MoveToOuterDisposeScope()
            ?? throw new ArgumentException("There are no statistics to sum: pass at least one part.", nameof(parts));
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
        ThrowIfDisposed();
        other.ThrowIfDisposed();
        layout.CheckSame(other.layout, "these statistics", "the other statistics", nameof(other));
        Guard.CheckSameDevice(Query, "statistics", other.Query, "other statistics", nameof(other));

        return new RegularizationStatistics(layout, Query.add(other.Query), Doc.add(other.Doc), QueryCount + other.QueryCount, DocCount + other.DocCount);
    }

    /// <summary>
    /// Sums these statistics across processes: hands <paramref name="allReduceSum"/> one 1-D float64 tensor of
    /// <see cref="Length"/> values (the counts, then both sides' statistics) and builds new statistics from the
    /// same-shaped tensor it returns. Reads the two counts back to the host, once.
    /// </summary>
    /// <param name="allReduceSum">An all-reduce with the sum operation: MPI's <c>Allreduce</c>, or any other collective.</param>
    /// <returns>New statistics in the caller's dispose scope; these are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="allReduceSum"/> is null or returns null.</exception>
    /// <exception cref="ArgumentException">The returned tensor is not float64 of the same shape, or its counts are not whole numbers at least these counts.</exception>
    /// <exception cref="ObjectDisposedException">These statistics have been disposed.</exception>
    public RegularizationStatistics AllReduce(Func<Tensor, Tensor> allReduceSum)
    {
        ArgumentNullException.ThrowIfNull(allReduceSum);
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var packed = Pack();
        var reduced = allReduceSum(packed) ?? throw new ArgumentNullException(nameof(allReduceSum), "The all-reduce delegate returned null.");
        var result = FromPacked(reduced, nameof(allReduceSum));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Moves the statistics' tensors to the dispose scope that encloses the current one, as <see cref="Tensor.MoveToOuterDisposeScope"/> does.</summary>
    /// <returns>This instance.</returns>
    public RegularizationStatistics MoveToOuterDisposeScope()
    {
        Query.MoveToOuterDisposeScope();
        Doc.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes the statistics' tensors out of every dispose scope: the caller then disposes this instance.</summary>
    /// <returns>This instance.</returns>
    public RegularizationStatistics DetachFromDisposeScope()
    {
        Query.DetachFromDisposeScope();
        Doc.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Disposes the statistics' tensors.</summary>
    public void Dispose()
    {
        Query.Dispose();
        Doc.Dispose();
    }

    /// <summary>All values as one 1-D float64 tensor: the query and document counts, then each side's statistics.</summary>
    internal Tensor Pack()
    {
        using var scope = NewDisposeScope();
        var counts = tensor(new double[] { QueryCount, DocCount }, ScalarType.Float64, Query.device);
        return cat([counts, Query.flatten(), Doc.flatten()]).MoveToOuterDisposeScope();
    }

    /// <summary>Statistics with this layout built from a packed tensor such as <see cref="Pack"/> returns.</summary>
    internal RegularizationStatistics FromPacked(Tensor packed, string paramName)
    {
        CheckPacked(packed, Length, paramName);
        using var scope = NewDisposeScope();
        var values = packed.to(Query.device);
        var counts = values[..2].cpu().data<double>().ToArray();
        if (!IsCount(counts[0], QueryCount) || !IsCount(counts[1], DocCount))
        {
            throw new ArgumentException(
                $"The all-reduced counts ({counts[0]} query rows, {counts[1]} document rows) must be whole numbers at least this process's ({QueryCount}, {DocCount}): was the operation a sum?",
                paramName);
        }

        var queryLength = Query.numel();
        var query = values[2..(int)(2 + queryLength)].reshape(Query.shape).clone();
        var doc = values[(int)(2 + queryLength)..].reshape(Doc.shape).clone();
        var result = new RegularizationStatistics(layout, query, doc, (long)counts[0], (long)counts[1]);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Throws unless these statistics were collected for <paramref name="other"/>'s loss and fit a part whose query embeddings are <paramref name="partQuery"/> and which has <paramref name="docRows"/> document rows.</summary>
    internal void CheckFits(StatisticsLayout other, Tensor partQuery, long docRows, string paramName)
    {
        ThrowIfDisposed();
        layout.CheckSame(other, "the statistics", "this loss and part", paramName);
        var queryRows = partQuery.shape[0];
        if (QueryCount < queryRows || DocCount < docRows)
        {
            throw new ArgumentException(
                $"The whole-batch statistics summarise {QueryCount} query and {DocCount} document rows, fewer than this part's {queryRows} and {docRows}: collect them over every part, this one included.",
                paramName);
        }

        Guard.CheckSameDevice(Query, "statistics", partQuery, "part's embeddings", paramName);
    }

    /// <summary>Throws unless an all-reduce returned a live 1-D float64 tensor of <paramref name="length"/> values.</summary>
    internal static void CheckPacked(Tensor packed, long length, string paramName)
    {
        if (packed.IsInvalid || packed.dtype != ScalarType.Float64 || packed.dim() != 1 || packed.shape[0] != length)
        {
            throw new ArgumentException(
                $"The all-reduce must return a 1-D float64 tensor of {length} values, like the one it was given, but returned "
                + (packed.IsInvalid ? "a disposed tensor." : $"dtype {packed.dtype} and shape {Guard.Format(packed.shape)}."),
                paramName);
        }
    }

    private static bool IsCount(double value, long atLeast) => double.IsFinite(value) && value == Math.Floor(value) && value >= atLeast;

    private RegularizationStatistics Clone()
    {
        ThrowIfDisposed();
        return new RegularizationStatistics(layout, Query.clone(), Doc.clone(), QueryCount, DocCount);
    }

    /// <summary>Both tensors are always disposed together (by <see cref="Dispose"/> or by their common dispose scope).</summary>
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Query.IsInvalid, this);
}
