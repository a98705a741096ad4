using LightningIr.Regularization;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// A model's document vectors on the host, as an impact index would hold them: only the entries that survive
/// quantization, at most <see cref="CollectionEncoding.Cap"/> per document, with what the encoder produced before either cut.
/// </summary>
/// <param name="Vectors">Each document's entries with a quantized weight of at least 1, its largest ones up to the cap.</param>
/// <param name="EncoderDocL0">The encoder's mean non-zeros per document, before quantization and the cap.</param>
/// <param name="QuantizedPostings">The postings the whole quantized collection holds before the cap.</param>
/// <param name="CappedDocuments">Documents that held more quantized entries than the cap.</param>
/// <param name="Cap">The most entries a document kept.</param>
public sealed record EncodedDocuments(SparseVector[] Vectors, double EncoderDocL0, long QuantizedPostings, int CappedDocuments, int Cap)
{
    /// <summary>The postings the vectors hold (after the cap).</summary>
    public long Postings => Vectors.Sum(v => (long)v.Terms.Length);
}

/// <summary>Encodes the collection into host-side sparse vectors, chunk by chunk, so that no [documents, V] tensor exists.</summary>
public static class CollectionEncoding
{
    /// <summary>Documents per encoded chunk.</summary>
    public const int Chunk = 256;

    /// <summary>
    /// The fewest entries a document may keep on the host (its largest, <see cref="StaticPruning.TopK"/>; the sample
    /// raises it to the longest document's own terms): an unregularized expanding model puts weight on thousands of
    /// terms per document, which neither memory nor a Lucene index holds for the whole collection. Every regularized
    /// model of the default run stays far below it.
    /// </summary>
    public const int Cap = 512;

    /// <summary>Encodes documents with their quantized survivors kept, up to <paramref name="cap"/> per document.</summary>
    public static EncodedDocuments Documents(ExpansionEncoder encoder, KnownItemCorpus corpus, IReadOnlyList<int> documents, float scale, Device device, int cap = Cap, Action<int>? onDone = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, 1);
        var vectors = new SparseVector[documents.Count];
        long nonZero = 0;
        long quantized = 0;
        var capped = 0;
        using var noGrad = no_grad();
        for (var start = 0; start < documents.Count; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var chunk = documents.Skip(start).Take(Chunk).ToArray();
            using var batch = corpus.DocumentBatch(chunk, device);
            var dense = encoder.EncodeDocuments(batch);
            // What the impact index keeps: a weight whose quantized impact is at least 1 (round half to even, as ImpactIndex does).
            var survives = dense.mul(scale).round().ge(1);
            var perRow = survives.sum([1]);
            var kept = StaticPruning.TopK(dense.mul(survives), Math.Min(cap, dense.shape[1]));
            var counts = stack([dense.count_nonzero().to(ScalarType.Int64), perRow.sum(), perRow.gt(cap).sum()]).cpu().data<long>().ToArray();
            nonZero += counts[0];
            quantized += counts[1];
            capped += (int)counts[2];
            ToSparse(kept).CopyTo(vectors, start);
            onDone?.Invoke(start + chunk.Length);
        }

        return new EncodedDocuments(vectors, (double)nonZero / Math.Max(1, documents.Count), quantized, capped, cap);
    }

    /// <summary>The rows of a dense [rows, vocabulary] tensor as host-side sparse vectors: only the non-zero entries leave the device.</summary>
    public static SparseVector[] ToSparse(Tensor dense)
    {
        ArgumentNullException.ThrowIfNull(dense);
        using var scope = NewDisposeScope();
        // Their positions (row-major, as nonzero lists them) and values.
        var positions = dense.nonzero();
        var values = dense.flatten().index_select(0, positions[.., 0].mul(dense.shape[1]).add(positions[.., 1]));
        positions = positions.cpu();
        var rows = positions[.., 0].data<long>().ToArray();
        var terms = positions[.., 1].data<long>().ToArray();
        var weights = values.cpu().data<float>().ToArray();
        var vectors = new SparseVector[dense.shape[0]];
        var n = 0;
        for (var r = 0; r < vectors.Length; r++)
        {
            var first = n;
            while (n < rows.Length && rows[n] == r)
            {
                n++;
            }

            vectors[r] = new SparseVector(terms[first..n].Select(t => (int)t).ToArray(), weights[first..n]);
        }

        return vectors;
    }
}

/// <summary>A text's non-zero term weights, term ids ascending.</summary>
public sealed record SparseVector(int[] Terms, float[] Weights);
