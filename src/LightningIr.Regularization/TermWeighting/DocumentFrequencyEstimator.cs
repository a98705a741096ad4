namespace LightningIr.Regularization;

/// <summary>
/// Counts, over any number of batches, in how many vectors each term is non-zero: the document frequencies that
/// DF-FLOPS turns into per-term weights (Porco et al., SIGIR 2025, arXiv:2505.15070; no Lightning IR counterpart).
/// </summary>
/// <remarks>
/// The vocabulary size, dtype and device come from the first batch after construction or <see cref="Reset"/>.
/// Counting non-zero entries builds no autograd graph and copies nothing to the host; the counts live on the device.
/// </remarks>
public sealed class DocumentFrequencyEstimator : IDisposable
{
    private Tensor? counts;
    private ScalarType dtype;
    private bool disposed;

    /// <summary>The number of vectors counted so far (rows times every position between the batch and the term dimension).</summary>
    public long DocumentCount { get; private set; }

    /// <summary>Counts the non-zero terms of every vector in a batch.</summary>
    /// <param name="embeddings">A floating-point tensor shaped <c>[batch, ..., V]</c>, with the first batch's V and device.</param>
    /// <exception cref="ArgumentNullException"><paramref name="embeddings"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The tensor is disposed, not floating point, of rank &lt; 2, has an empty dimension, or its vocabulary size or device differs from the first batch's.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The estimator has been disposed.</exception>
    public void Add(Tensor embeddings)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Guard.CheckEmbeddings(embeddings, "document", nameof(embeddings));
        var vocabulary = embeddings.shape[^1];
        if (counts is not null)
        {
            if (counts.shape[0] != vocabulary)
            {
                throw new ArgumentException(
                    $"The estimator counts a vocabulary of {counts.shape[0]} terms, but these embeddings have {vocabulary} (shape {Guard.Format(embeddings.shape)}).",
                    nameof(embeddings));
            }

            Guard.CheckSameDevice(embeddings, "embeddings", counts, "estimator's counts", nameof(embeddings));
        }

        using var scope = NewDisposeScope();
        var batchCounts = embeddings.reshape(-1, vocabulary).count_nonzero([0]);
        if (counts is null)
        {
            counts = batchCounts.DetachFromDisposeScope();
            dtype = embeddings.dtype;
        }
        else
        {
            counts.add_(batchCounts);
        }

        DocumentCount += embeddings.numel() / vocabulary;
    }

    /// <summary>The fraction of counted vectors in which each term is non-zero, DF / |C|, shaped <c>[V]</c>.</summary>
    /// <returns>A tensor with the first batch's dtype and device, in the caller's dispose scope.</returns>
    /// <exception cref="InvalidOperationException">Nothing has been counted since construction or <see cref="Reset"/>.</exception>
    /// <exception cref="ObjectDisposedException">The estimator has been disposed.</exception>
    public Tensor Fractions()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (counts is null)
        {
            throw new InvalidOperationException("No embeddings have been counted: call Add with at least one batch first.");
        }

        using var scope = NewDisposeScope();
        return counts.to(ScalarType.Float64).div(DocumentCount).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Forgets every count; the next batch sets the vocabulary size, dtype and device again.</summary>
    /// <exception cref="ObjectDisposedException">The estimator has been disposed.</exception>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        counts?.Dispose();
        counts = null;
        DocumentCount = 0;
    }

    /// <summary>Releases the counts.</summary>
    public void Dispose()
    {
        counts?.Dispose();
        counts = null;
        disposed = true;
    }
}
