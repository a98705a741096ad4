using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// A batch of texts as sparse entries: for each of a text's terms its row, its term, its frequency, its idf and the text's
/// length over avgdl.
/// </summary>
public sealed record TextBatch(int Rows, Tensor RowIndex, Tensor Terms, Tensor Frequencies, Tensor Idf, Tensor LengthRatio) : IDisposable
{
    /// <summary>Builds the batch from the texts' bags, the vocabulary's idf and each text's length over avgdl.</summary>
    public static TextBatch Create(IReadOnlyList<TermBag> bags, IReadOnlyList<double> idf, IReadOnlyList<float> lengthRatios, Device device)
    {
        ArgumentNullException.ThrowIfNull(bags);
        ArgumentNullException.ThrowIfNull(idf);
        ArgumentNullException.ThrowIfNull(lengthRatios);
        var count = bags.Sum(b => b.Terms.Length);
        var rows = new long[count];
        var terms = new long[count];
        var frequencies = new float[count];
        var idfs = new float[count];
        var ratios = new float[count];
        var n = 0;
        for (var r = 0; r < bags.Count; r++)
        {
            for (var i = 0; i < bags[r].Terms.Length; i++, n++)
            {
                rows[n] = r;
                terms[n] = bags[r].Terms[i];
                frequencies[n] = bags[r].Frequencies[i];
                idfs[n] = (float)idf[bags[r].Terms[i]];
                ratios[n] = lengthRatios[r];
            }
        }

        return new TextBatch(
            bags.Count,
            tensor(rows, device: device),
            tensor(terms, device: device),
            tensor(frequencies, device: device),
            tensor(idfs, device: device),
            tensor(ratios, device: device));
    }

    public void Dispose()
    {
        foreach (var t in new[] { RowIndex, Terms, Frequencies, Idf, LengthRatio })
        {
            t.Dispose();
        }
    }
}
