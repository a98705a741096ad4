namespace LightningIr.Regularization;

/// <summary>
/// What a set of statistics was collected for: the loss type, its settings that change the statistics, and each
/// side's vector shape (the embeddings' shape without the batch dimension). Two layouts must be equal to combine.
/// </summary>
internal sealed record StatisticsLayout(Type LossType, string Settings, long[] QueryVectorShape, long[] DocVectorShape)
{
    /// <summary>Throws an <see cref="ArgumentException"/> that says what differs, unless the layouts are equal.</summary>
    public void CheckSame(StatisticsLayout other, string these, string those, string paramName)
    {
        string? difference = null;
        if (LossType != other.LossType)
        {
            difference = $"{these} were collected by {LossType.Name} but {those} belong to {other.LossType.Name}";
        }
        else if (!string.Equals(Settings, other.Settings, StringComparison.Ordinal))
        {
            difference = $"{these} were collected with {Settings} but {those} use {other.Settings}";
        }
        else if (!QueryVectorShape.AsSpan().SequenceEqual(other.QueryVectorShape) || !DocVectorShape.AsSpan().SequenceEqual(other.DocVectorShape))
        {
            difference = $"{these} were collected from query vectors {Guard.Format(QueryVectorShape)} and document vectors {Guard.Format(DocVectorShape)} "
                + $"(shapes without the batch dimension) but {those} have {Guard.Format(other.QueryVectorShape)} and {Guard.Format(other.DocVectorShape)}";
        }

        if (difference is not null)
        {
            throw new ArgumentException($"Statistics do not match: {difference}. Collect every part of a batch with the same loss and settings.", paramName);
        }
    }
}
