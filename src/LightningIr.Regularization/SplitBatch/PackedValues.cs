namespace LightningIr.Regularization;

/// <summary>
/// What a packed container holds and what two of them must share to combine: the number of values, which of them are
/// counts, how many leading counts the host keeps, and how to name a difference. One per all-reducible public type.
/// </summary>
internal abstract record PackedLayout
{
    /// <summary>The type's plural in messages: "Statistics", "Measurements".</summary>
    internal abstract string Noun { get; }

    /// <summary>One container in messages about devices: "statistics", "measurement".</summary>
    internal abstract string Item { get; }

    /// <summary>The public type the values belong to, which a disposed container names.</summary>
    internal abstract Type Owner { get; }

    /// <summary>What to do when two parts do not match.</summary>
    internal abstract string Advice { get; }

    /// <summary>The number of float64 values.</summary>
    internal abstract long Length { get; }

    /// <summary>The ranges of values that are counts: whole numbers, which a sum over processes cannot make smaller.</summary>
    internal abstract IReadOnlyList<(long Start, long Length)> Counts { get; }

    /// <summary>How many leading values (all counts) the host keeps, read once at an all-reduce.</summary>
    internal virtual int HostCounts => 0;

    /// <summary>What differs from <paramref name="other"/>, or <see langword="null"/> when the two combine.</summary>
    internal abstract string? Difference(PackedLayout other, string these, string those);

    /// <summary>Throws an <see cref="ArgumentException"/> that names the difference, unless the two combine.</summary>
    internal void CheckSame(PackedLayout other, string these, string those, string paramName)
    {
        if (Difference(other, these, those) is string difference)
        {
            throw new ArgumentException($"{Noun} do not match: {difference}. {Advice}", paramName);
        }
    }
}

/// <summary>
/// The one container behind <see cref="RegularizationStatistics"/>, <see cref="SparsityMeasurement"/> and
/// <see cref="TrainingObjectiveStatistics"/>: a 1-D float64 tensor on the embeddings' device, with its layout and the
/// counts the host keeps. It owns the sums, the all-reduce, the scope moves and disposal, and their checks: the same
/// checks at the same time with the same messages for every type.
/// </summary>
internal sealed class PackedValues
{
    internal PackedValues(PackedLayout layout, Tensor values, double[] hostCounts)
    {
        Layout = layout;
        Values = values;
        HostCounts = hostCounts;
    }

    /// <summary>What the values are.</summary>
    internal PackedLayout Layout { get; }

    /// <summary>The values, 1-D float64.</summary>
    internal Tensor Values { get; }

    /// <summary>The first <see cref="PackedLayout.HostCounts"/> values, on the host.</summary>
    internal IReadOnlyList<double> HostCounts { get; }

    internal Device Device => Values.device;

    /// <summary>Sums the parts: each live, of one layout and device. The parts are left unchanged.</summary>
    internal static PackedValues Sum(IEnumerable<PackedValues> parts, string noun, string paramName)
    {
        PackedValues? total = null;
        using var scope = NewDisposeScope();
        foreach (var part in parts)
        {
            total = total is null ? part.Clone() : total.Add(part, paramName);
        }

        if (total is null)
        {
            throw new ArgumentException($"There are no {noun} to sum: pass at least one part.", paramName);
        }

        total.Values.MoveToOuterDisposeScope();
        return total;
    }

    /// <summary>This plus another part of the same batch.</summary>
    internal PackedValues Add(PackedValues other, string paramName)
    {
        ThrowIfDisposed();
        other.ThrowIfDisposed();
        var noun = Layout.Noun.ToLowerInvariant();
        Layout.CheckSame(other.Layout, $"these {noun}", $"the other {noun}", paramName);
        Guard.CheckSameDevice(Values, Layout.Item, other.Values, $"other {Layout.Item}", paramName);
        return new PackedValues(Layout, Values.add(other.Values), HostCounts.Zip(other.HostCounts, (a, b) => a + b).ToArray());
    }

    /// <summary>
    /// Sums several containers across processes with one call of <paramref name="allReduceSum"/>: hands it their values
    /// end to end, checks what it returns (a live 1-D float64 tensor of the same length, whose counts are whole numbers at
    /// least this process's, read in one host transfer with the counts the host keeps) and splits it again.
    /// </summary>
    internal static PackedValues[] AllReduce(IReadOnlyList<PackedValues> parts, Func<Tensor, Tensor> allReduceSum, string paramName)
    {
        ArgumentNullException.ThrowIfNull(allReduceSum, paramName);
        foreach (var part in parts)
        {
            part.ThrowIfDisposed();
        }

        using var scope = NewDisposeScope();
        var length = parts.Sum(p => p.Layout.Length);
        var packed = parts.Count == 1 ? parts[0].Values.clone() : cat(parts.Select(p => p.Values).ToList());
        var reduced = allReduceSum(packed) ?? throw new ArgumentNullException(paramName, "The all-reduce delegate returned null.");
        if (reduced.IsInvalid || reduced.dtype != ScalarType.Float64 || reduced.dim() != 1 || reduced.shape[0] != length)
        {
            throw new ArgumentException(
                $"The all-reduce must return a 1-D float64 tensor of {length} values, like the one it was given, but returned "
                + (reduced.IsInvalid ? "a disposed tensor." : $"dtype {reduced.dtype} and shape {Guard.Format(reduced.shape)}."),
                paramName);
        }

        reduced = reduced.to(parts[0].Device);
        var checks = new List<Tensor>();
        var kept = new List<Tensor>();
        long offset = 0;
        foreach (var part in parts)
        {
            foreach (var (start, count) in part.Layout.Counts)
            {
                var sum = reduced.narrow(0, offset + start, count);
                var own = part.Values.narrow(0, start, count);
                checks.Add(sum.isfinite().logical_and(sum.eq(sum.floor())).logical_and(sum.ge(own)).all().reshape(1));
            }

            kept.Add(reduced.narrow(0, offset, part.Layout.HostCounts));
            offset += part.Layout.Length;
        }

        var host = cat([cat(checks).all().to(ScalarType.Float64).reshape(1), .. kept]).cpu().data<double>().ToArray();
        if (host[0] != 1)
        {
            throw new ArgumentException(
                $"The all-reduced {parts[0].Layout.Noun.ToLowerInvariant()} hold counts that are not whole numbers at least this process's: was the operation a sum?", paramName);
        }

        var results = new PackedValues[parts.Count];
        offset = 0;
        var hostOffset = 1;
        for (var i = 0; i < parts.Count; i++)
        {
            var layout = parts[i].Layout;
            results[i] = new PackedValues(layout, reduced.narrow(0, offset, layout.Length).clone(), host[hostOffset..(hostOffset + layout.HostCounts)]);
            results[i].Values.MoveToOuterDisposeScope();
            offset += layout.Length;
            hostOffset += layout.HostCounts;
        }

        return results;
    }

    internal void MoveToOuterDisposeScope() => Values.MoveToOuterDisposeScope();

    internal void DetachFromDisposeScope() => Values.DetachFromDisposeScope();

    internal void Dispose() => Values.Dispose();

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Values.IsInvalid, Layout.Owner);

    private PackedValues Clone()
    {
        ThrowIfDisposed();
        return new PackedValues(Layout, Values.clone(), [.. HostCounts]);
    }
}
