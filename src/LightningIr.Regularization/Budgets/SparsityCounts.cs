namespace LightningIr.Regularization;

/// <summary>
/// The count kernels of <see cref="SparsityBudget.Measure"/>: per side the number of vectors and of their non-zero
/// entries, a finiteness witness, and (for a FLOPS target) in how many vectors each term is non-zero, packed into one
/// float64 tensor on the embeddings' device. Nothing is read to the host.
/// </summary>
internal static class SparsityCounts
{
    /// <summary>The counts before the per-term columns: query vectors, their non-zeros, document vectors, theirs, the witness.</summary>
    internal const int Length = 5;

    /// <summary>Where the finiteness witness sits: the smallest plus the largest measured entry, NaN or infinite when one of them is.</summary>
    internal const int Witness = 4;

    /// <summary>Packs the counts of the measured sides; a side not measured counts zeros.</summary>
    internal static Tensor Pack(Tensor query, Tensor? queryMask, Tensor doc, Tensor? docMask, bool measureQuery, bool measureDoc, bool columns)
    {
        var q = Count(query, queryMask, measureQuery || columns, columns);
        var d = Count(doc, docMask, measureDoc || columns, columns);
        var parts = new List<Tensor> { q.Vectors, q.NonZeros, d.Vectors, d.NonZeros, q.Witness.add(d.Witness) };
        if (columns)
        {
            parts.Add(q.Columns!);
            parts.Add(d.Columns!);
        }

        return cat(parts.Select(p => p.to(ScalarType.Float64).reshape(-1)).ToList());
    }

    /// <summary>
    /// One side's counts. The kernels are the fastest exact ones measured on the CPU (the benchmarks' README): a
    /// whole-tensor <c>count_nonzero</c>, and sums of the non-zero indicator in float32, exact for counts below 2²⁴ per
    /// vector or term. The witness is the smallest plus the largest entry, in float64: finite exactly when every entry is
    /// (a count would take NaN for non-zero). <c>aminmax</c> reads the embeddings once and allocates no buffer, where a
    /// float64 sum would convert them into an embedding-sized copy first.
    /// </summary>
    private static (Tensor Vectors, Tensor NonZeros, Tensor Witness, Tensor? Columns) Count(Tensor embeddings, Tensor? mask, bool measured, bool columns)
    {
        if (!measured)
        {
            var zero = zeros(1, ScalarType.Float64, embeddings.device);
            return (zero, zero, zero, null);
        }

        var length = embeddings.shape[^1];
        var (low, high) = embeddings.aminmax();
        var witness = low.to(ScalarType.Float64).add(high.to(ScalarType.Float64));
        var vectors = mask is null
            ? tensor((double)(embeddings.numel() / length), ScalarType.Float64, embeddings.device)
            : mask.sum().to(ScalarType.Float64);
        if (columns)
        {
            var active = mask is null ? embeddings.ne(0) : embeddings.ne(0).logical_and(mask.unsqueeze(-1));
            var columnCounts = active.reshape(-1, length).sum([0], type: ScalarType.Float32);
            return (vectors, columnCounts.sum(type: ScalarType.Float64), witness, columnCounts);
        }

        var nonZeros = mask is null
            ? embeddings.count_nonzero()
            : embeddings.ne(0).sum([-1], type: ScalarType.Float32).mul(mask).sum(type: ScalarType.Float64);
        return (vectors, nonZeros, witness, null);
    }
}
