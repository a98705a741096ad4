using LightningIr.Regularization;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// The simplest alternative to training a sparse model: cut a model's documents after training, to a given number of
/// postings, with the library's static pruning. Each method keeps the largest weights, and both meet the size exactly
/// (up to ties at a global threshold), so a pruned index and a trained one are compared at the same postings.
/// </summary>
/// <remarks>
/// Document-centric top-k and agnostic (one global impact threshold) pruning, as in Lassance et al., "A Static Pruning
/// Study on Sparse Neural Retrievers" (SIGIR 2023).
/// </remarks>
public static class PrunedBaselines
{
    /// <summary>The name of <see cref="TopKPerDocument"/> in reports.</summary>
    public const string TopKName = "top k per document";

    /// <summary>The name of <see cref="GlobalThreshold"/> in reports.</summary>
    public const string GlobalThresholdName = "one global threshold";

    /// <summary>The two ways a source model is cut.</summary>
    public static IReadOnlyList<(string Name, Func<IReadOnlyList<SparseVector>, long, int, SparseVector[]> Prune)> Methods { get; } =
    [
        (TopKName, TopKPerDocument),
        (GlobalThresholdName, GlobalThreshold),
    ];

    /// <summary>
    /// Each document's largest entries (<see cref="StaticPruning.TopK"/>): every document keeps k, and the first documents
    /// that hold more keep k + 1, with k and their number chosen so that the collection keeps exactly
    /// <paramref name="postings"/> entries (or all it has, if fewer).
    /// </summary>
    public static SparseVector[] TopKPerDocument(IReadOnlyList<SparseVector> documents, long postings, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfNegative(postings);
        var lengths = documents.Select(d => (long)d.Terms.Length).ToArray();
        long Kept(long k) => lengths.Sum(n => Math.Min(n, k));
        var longest = lengths.DefaultIfEmpty(0).Max();
        var k = 0L;
        while (k < longest && Kept(k + 1) <= postings)
        {
            k++;
        }

        var extra = postings - Kept(k); // documents longer than k that keep one more
        var plus = lengths.Select(n => n > k && extra-- > 0).ToArray();
        return Apply(documents, vocabularySize, (dense, first) =>
        {
            using var scope = NewDisposeScope();
            var flags = plus.AsSpan(first, (int)dense.shape[0]).ToArray();
            var kept = k == 0 ? zeros_like(dense) : StaticPruning.TopK(dense, k);
            // Only the chunks that hold documents keeping k + 1 pay for the second cut.
            var cut = Array.IndexOf(flags, true) < 0 ? kept : where(tensor(flags, device: dense.device).unsqueeze(1), StaticPruning.TopK(dense, k + 1), kept);
            return cut.MoveToOuterDisposeScope();
        });
    }

    /// <summary>
    /// One impact threshold over the whole collection (<see cref="IndexPruning.CollectionThreshold"/>, exact), applied to
    /// every document (<see cref="StaticPruning.Threshold"/>): at most <paramref name="postings"/> entries stay, fewer only
    /// when entries tie at the threshold.
    /// </summary>
    public static SparseVector[] GlobalThreshold(IReadOnlyList<SparseVector> documents, long postings, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfNegative(postings);
        var threshold = IndexPruning.CollectionThreshold(Chunks(documents, vocabularySize).Select(c => c.Dense), postings);
        return Apply(documents, vocabularySize, (dense, _) => StaticPruning.Threshold(dense, threshold.Threshold));
    }

    /// <summary>Cuts the collection chunk by chunk: dense [chunk, V] rows rebuilt from the sparse vectors, pruned, read back.</summary>
    private static SparseVector[] Apply(IReadOnlyList<SparseVector> documents, int vocabularySize, Func<Tensor, int, Tensor> prune)
    {
        var pruned = new SparseVector[documents.Count];
        foreach (var (first, dense) in Chunks(documents, vocabularySize))
        {
            using var scope = NewDisposeScope();
            using var input = dense;
            CollectionEncoding.ToSparse(prune(input, first)).CopyTo(pruned, first);
        }

        return pruned;
    }

    /// <summary>The documents as dense float32 chunks of <see cref="CollectionEncoding.Chunk"/> rows, each created when enumerated.</summary>
    private static IEnumerable<(int First, Tensor Dense)> Chunks(IReadOnlyList<SparseVector> documents, int vocabularySize)
    {
        for (var first = 0; first < documents.Count; first += CollectionEncoding.Chunk)
        {
            // Built outside any scope of this iterator: a scope held open across the yield would collect the consumer's tensors.
            yield return (first, Dense(documents, first, Math.Min(CollectionEncoding.Chunk, documents.Count - first), vocabularySize));
        }
    }

    /// <summary>Rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="rows"/> as a dense [rows, V] tensor.</summary>
    private static Tensor Dense(IReadOnlyList<SparseVector> documents, int first, int rows, int vocabularySize)
    {
        var count = 0;
        for (var r = 0; r < rows; r++)
        {
            count += documents[first + r].Terms.Length;
        }

        var positions = new long[count];
        var values = new float[count];
        var n = 0;
        for (var r = 0; r < rows; r++)
        {
            var d = documents[first + r];
            for (var i = 0; i < d.Terms.Length; i++, n++)
            {
                positions[n] = ((long)r * vocabularySize) + d.Terms[i];
                values[n] = d.Weights[i];
            }
        }

        using var scope = NewDisposeScope();
        return zeros(rows * (long)vocabularySize)
            .index_put_(tensor(values), tensor(positions))
            .view(rows, vocabularySize)
            .MoveToOuterDisposeScope();
    }
}
