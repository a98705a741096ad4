namespace LightningIr.Regularization;

/// <summary>
/// What a set of <see cref="RegularizationStatistics"/> was collected for: the loss type, its settings that change the
/// statistics, and each side's vector shape (the embeddings' shape without the batch dimension). Two layouts must agree
/// on these to combine; the statistics' own shapes follow from them.
/// </summary>
internal sealed record StatisticsLayout(Type LossType, string Settings, long[] QueryVectorShape, long[] DocVectorShape) : PackedLayout
{
    /// <summary>The shape of the query side's statistics.</summary>
    internal long[] QueryStatistics { get; init; } = [0];

    /// <summary>The shape of the document side's statistics.</summary>
    internal long[] DocStatistics { get; init; } = [0];

    internal override string Noun => "Statistics";

    internal override string Item => "statistics";

    internal override Type Owner => typeof(RegularizationStatistics);

    internal override string Advice => "Collect every part of a batch with the same loss and settings.";

    /// <summary>The number of values of the query side's statistics, which follow the two row counts.</summary>
    internal long QueryLength => QueryStatistics.Aggregate(1L, (a, b) => a * b);

    /// <summary>The number of values of the document side's statistics, which follow the query side's.</summary>
    internal long DocLength => DocStatistics.Aggregate(1L, (a, b) => a * b);

    internal override long Length => 2 + QueryLength + DocLength;

    internal override IReadOnlyList<(long Start, long Length)> Counts => RowCounts;

    /// <summary>The two row counts, the only counts of the statistics.</summary>
    private static readonly (long Start, long Length)[] RowCounts = [(0, 2)];

    internal override int HostCounts => 2;

    internal override string? Difference(PackedLayout other, string these, string those)
    {
        var layout = (StatisticsLayout)other;
        return LossType != layout.LossType ? $"{these} were collected by {LossType.Name} but {those} belong to {layout.LossType.Name}"
            : !string.Equals(Settings, layout.Settings, StringComparison.Ordinal) ? $"{these} were collected with {Settings} but {those} use {layout.Settings}"
            : !QueryVectorShape.AsSpan().SequenceEqual(layout.QueryVectorShape) || !DocVectorShape.AsSpan().SequenceEqual(layout.DocVectorShape)
                ? $"{these} were collected from query vectors {Guard.Format(QueryVectorShape)} and document vectors {Guard.Format(DocVectorShape)} "
                    + $"(shapes without the batch dimension) but {those} have {Guard.Format(layout.QueryVectorShape)} and {Guard.Format(layout.DocVectorShape)}"
            : null;
    }
}
