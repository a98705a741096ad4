namespace LightningIr.Regularization;

/// <summary>
/// The split-batch statistics of every regularizer of a <see cref="TrainingObjective"/>, in the order they were
/// added: summed over parts, or all-reduced across processes in one call.
/// </summary>
/// <remarks>No Lightning IR counterpart; see <see cref="RegularizationStatistics"/>.</remarks>
public sealed class TrainingObjectiveStatistics : IDisposable
{
    internal TrainingObjectiveStatistics(IReadOnlyList<RegularizationStatistics> regularizers) => RegularizerStatistics = regularizers;

    /// <summary>One entry per regularizer of the objective, in the order they were added.</summary>
    public IReadOnlyList<RegularizationStatistics> RegularizerStatistics { get; }

    /// <summary>The number of float64 values <see cref="AllReduce"/> hands to its delegate.</summary>
    public long Length => RegularizerStatistics.Sum(r => r.Length);

    /// <summary>Sums parts of one batch.</summary>
    /// <param name="parts">Statistics collected by the same objective from parts of one batch.</param>
    /// <returns>New statistics in the caller's dispose scope; the parts are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty, or two parts do not match.</exception>
    /// <exception cref="ObjectDisposedException">A part has been disposed.</exception>
    public static TrainingObjectiveStatistics Sum(IEnumerable<TrainingObjectiveStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.Select(p => p ?? throw new ArgumentNullException(nameof(parts))).ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("There are no statistics to sum: pass at least one part.", nameof(parts));
        }

        foreach (var part in list)
        {
            CheckCount(list[0], part, nameof(parts));
        }

        using var scope = NewDisposeScope();
        var sums = new List<RegularizationStatistics>(list[0].RegularizerStatistics.Count);
        for (var i = 0; i < list[0].RegularizerStatistics.Count; i++)
        {
            sums.Add(RegularizationStatistics.Sum(list.Select(p => p.RegularizerStatistics[i])));
        }

        return new TrainingObjectiveStatistics(sums).MoveToOuterDisposeScope();
    }

    /// <summary>Adds the statistics of another part of the same batch.</summary>
    /// <param name="other">Statistics collected by the same objective.</param>
    /// <returns>New statistics in the caller's dispose scope; both operands are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    /// <exception cref="ArgumentException">The two do not match.</exception>
    /// <exception cref="ObjectDisposedException">One of the two has been disposed.</exception>
    public TrainingObjectiveStatistics Add(TrainingObjectiveStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Sum([this, other]);
    }

    /// <summary>
    /// Sums the statistics across processes with one call of <paramref name="allReduceSum"/>, handing it one 1-D float64
    /// tensor of <see cref="Length"/> values, as <see cref="RegularizationStatistics.AllReduce"/> does for one regularizer.
    /// </summary>
    /// <param name="allReduceSum">An all-reduce with the sum operation.</param>
    /// <returns>New statistics in the caller's dispose scope; these are left unchanged.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="allReduceSum"/> is null or returns null.</exception>
    /// <exception cref="ArgumentException">The returned tensor is not float64 of the same shape, or its counts are not whole numbers at least these counts.</exception>
    /// <exception cref="ObjectDisposedException">These statistics have been disposed.</exception>
    public TrainingObjectiveStatistics AllReduce(Func<Tensor, Tensor> allReduceSum)
    {
        ArgumentNullException.ThrowIfNull(allReduceSum);
        // Nothing to reduce: every process holds the same objective, so every process skips the collective alike.
        return RegularizerStatistics.Count == 0
            ? new TrainingObjectiveStatistics([])
            : new TrainingObjectiveStatistics(
                PackedValues.AllReduce(RegularizerStatistics.Select(r => r.Packed).ToList(), allReduceSum, nameof(allReduceSum))
                    .Select(RegularizationStatistics.Wrap).ToList());
    }

    /// <summary>Moves every tensor to the dispose scope that encloses the current one.</summary>
    /// <returns>This instance.</returns>
    public TrainingObjectiveStatistics MoveToOuterDisposeScope()
    {
        foreach (var regularizer in RegularizerStatistics)
        {
            regularizer.MoveToOuterDisposeScope();
        }

        return this;
    }

    /// <summary>Takes every tensor out of every dispose scope: the caller then disposes this instance.</summary>
    /// <returns>This instance.</returns>
    public TrainingObjectiveStatistics DetachFromDisposeScope()
    {
        foreach (var regularizer in RegularizerStatistics)
        {
            regularizer.DetachFromDisposeScope();
        }

        return this;
    }

    /// <summary>Disposes every regularizer's statistics.</summary>
    public void Dispose()
    {
        foreach (var regularizer in RegularizerStatistics)
        {
            regularizer.Dispose();
        }
    }

    internal static void CheckCount(TrainingObjectiveStatistics a, TrainingObjectiveStatistics b, string paramName)
    {
        if (a.RegularizerStatistics.Count != b.RegularizerStatistics.Count)
        {
            throw new ArgumentException(
                $"Statistics do not match: one holds {a.RegularizerStatistics.Count} regularizers and the other {b.RegularizerStatistics.Count}. Collect every part with the same objective.",
                paramName);
        }
    }
}
