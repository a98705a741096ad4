namespace LightningIr.Regularization;

/// <summary>
/// Sparsity figures of sparse (SPLADE-style) embeddings for logging: how many terms a vector uses and
/// what a query–document dot product costs on an inverted index.
/// </summary>
/// <remarks>
/// After naver/splade's logged L0 and the FLOPS figure of Paria et al. (ICLR 2020, arXiv:2004.05665); no Lightning IR
/// counterpart. Each call copies one number to the host: call them when logging, not inside the loss.
/// </remarks>
/// <example>
/// <code>
/// Console.WriteLine($"doc L0 {SparsityMetrics.L0(docs):F1}, FLOPS {SparsityMetrics.Flops(queries, docs):F2}");
/// </code>
/// </example>
public static class SparsityMetrics
{
    private static readonly long[] BatchDim = [0];

    /// <summary>The mean number of non-zero entries per vector.</summary>
    /// <param name="embeddings">Embeddings shaped <c>[batch, ..., dim]</c>, of any dtype.</param>
    /// <returns>The mean L0 "norm" of the vectors, between 0 and <c>dim</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor is disposed, of rank &lt; 2, or has an empty dimension.</exception>
    public static double L0(Tensor embeddings)
    {
        Guard.CheckVectors(embeddings, "input", nameof(embeddings));
        using var scope = NewDisposeScope();
        return embeddings.count_nonzero([-1]).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>The fraction of entries that are zero, averaged over vectors: <c>1 − L0 / dim</c>.</summary>
    /// <param name="embeddings">Embeddings shaped <c>[batch, ..., dim]</c>, of any dtype.</param>
    /// <returns>A number between 0 (dense) and 1 (all zero).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor is disposed, of rank &lt; 2, or has an empty dimension.</exception>
    public static double SparsityRatio(Tensor embeddings) => 1 - (L0(embeddings) / embeddings.shape[^1]);

    /// <summary>
    /// The expected number of multiplications of one query–document dot product on an inverted index:
    /// <c>Σⱼ pⱼ(q) · pⱼ(d)</c>, where <c>pⱼ</c> is the fraction of query (resp. document) vectors whose entry j is non-zero.
    /// </summary>
    /// <param name="queryEmbeddings">Query embeddings shaped <c>[batch, ..., dim]</c>.</param>
    /// <param name="docEmbeddings">Document embeddings shaped <c>[batch, ..., dim]</c>, with the same <c>dim</c>.</param>
    /// <returns>A number between 0 and <c>dim</c>; lower is cheaper to retrieve with.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">
    /// A tensor is disposed, of rank &lt; 2, has an empty dimension, the last dimensions differ, or the two are on different devices.
    /// </exception>
    public static double Flops(Tensor queryEmbeddings, Tensor docEmbeddings)
    {
        Guard.CheckVectors(queryEmbeddings, "query", nameof(queryEmbeddings));
        Guard.CheckVectors(docEmbeddings, "document", nameof(docEmbeddings));
        var dim = queryEmbeddings.shape[^1];
        if (docEmbeddings.shape[^1] != dim)
        {
            throw new ArgumentException(
                $"Query and document vectors must have the same length, but have {dim} and {docEmbeddings.shape[^1]}.", nameof(docEmbeddings));
        }

        Guard.CheckSameDevice(queryEmbeddings, "query embeddings", docEmbeddings, "document embeddings", nameof(docEmbeddings));

        using var scope = NewDisposeScope();
        var queryActive = ActiveFraction(queryEmbeddings, dim);
        var docActive = ActiveFraction(docEmbeddings, dim);
        return queryActive.mul(docActive).sum().item<double>();
    }

    private static Tensor ActiveFraction(Tensor embeddings, long dim)
        => embeddings.reshape(-1, dim).ne(0).to(ScalarType.Float64).mean(BatchDim);
}
