using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>The sizes and seed from which a <see cref="KnownItemCorpus"/> is built.</summary>
public sealed record CorpusSettings(int Seed, int EvaluationQueries, int FrequencySample, int VocabularySize, int MaxDocumentTokens, int MaxQueryTokens, int? MaxDocuments);

/// <summary>
/// Debian package descriptions as a known-item retrieval task, tokenized for the sparse encoder. Every cleaned package
/// is a document of the collection. A seeded shuffle sets apart the held-out queries (the synopses of
/// <see cref="CorpusSettings.EvaluationQueries"/> packages) and a sample of documents from which DF-FLOPS estimates
/// document frequencies; training draws (synopsis, description) pairs from the remaining packages.
/// </summary>
public sealed class KnownItemCorpus
{
    private readonly long[][] documentTokens;
    private readonly long[][] queryTokens;

    public KnownItemCorpus(IReadOnlyList<PackageDescription> packages, CorpusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(packages);
        ArgumentNullException.ThrowIfNull(settings);
        var order = Enumerable.Range(0, packages.Count).ToArray();
        new Random(settings.Seed).Shuffle(order);
        if (settings.MaxDocuments is int cap && cap < order.Length)
        {
            order = order[..cap];
        }

        if (order.Length < settings.EvaluationQueries + settings.FrequencySample + 1000)
        {
            throw new InvalidOperationException(
                $"The collection has {order.Length} packages (after cleaning and --max-documents); {settings.EvaluationQueries} held-out queries and " +
                $"{settings.FrequencySample} frequency-sample documents need at least 1,000 more for training.");
        }

        Documents = order.Select(i => packages[i]).ToList();
        EvaluationTargets = Enumerable.Range(0, settings.EvaluationQueries).ToArray();
        FrequencySample = Enumerable.Range(settings.EvaluationQueries, settings.FrequencySample).ToArray();
        TrainingTargets = Enumerable.Range(settings.EvaluationQueries + settings.FrequencySample, Documents.Count - settings.EvaluationQueries - settings.FrequencySample).ToArray();

        // cl100k (GPT-4's byte-pair encoding) over lower-cased text; the sparse vocabulary is the collection's
        // most frequent tokens by document frequency, and other tokens are dropped.
        var tokenizer = TiktokenTokenizer.CreateForModel("gpt-4");
        var documentIds = Documents.Select(d => tokenizer.EncodeToIds(d.Description.ToLowerInvariant())).ToList();
        var queryIds = Documents.Select(d => tokenizer.EncodeToIds(d.Synopsis.ToLowerInvariant())).ToList();
        var frequency = new Dictionary<int, int>();
        foreach (var ids in documentIds)
        {
            foreach (var id in ids.Distinct())
            {
                frequency[id] = frequency.GetValueOrDefault(id) + 1;
            }
        }

        var top = frequency.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(settings.VocabularySize).Select(p => p.Key).ToArray();
        var index = top.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => (long)p.i);
        documentTokens = documentIds.Select(ids => Map(ids, index, settings.MaxDocumentTokens)).ToArray();
        queryTokens = queryIds.Select(ids => Map(ids, index, settings.MaxQueryTokens)).ToArray();
        VocabularySize = top.Length;
    }

    /// <summary>The collection: every cleaned package (up to the cap), in the seeded order.</summary>
    public IReadOnlyList<PackageDescription> Documents { get; }

    /// <summary>The documents whose synopses are the held-out queries.</summary>
    public int[] EvaluationTargets { get; }

    /// <summary>Documents held out from training from which DF-FLOPS estimates document frequencies.</summary>
    public int[] FrequencySample { get; }

    /// <summary>The documents whose (synopsis, description) pairs training draws from.</summary>
    public int[] TrainingTargets { get; }

    /// <summary>The sparse vocabulary's size; term <c>i</c> is the <c>i</c>-th most frequent token.</summary>
    public int VocabularySize { get; }

    /// <summary>The mean number of in-vocabulary tokens per document and per query (after truncation).</summary>
    public (double Document, double Query) MeanTokens => (documentTokens.Average(t => t.Length), queryTokens.Average(t => t.Length));

    /// <summary>Documents' tokens, padded with <paramref name="paddingId"/> to the longest: [count, length].</summary>
    public Tensor DocumentBatch(IEnumerable<int> documents, int paddingId, Device device) => Pad(documents.Select(d => documentTokens[d]), paddingId, device);

    /// <summary>The synopses of the given documents' packages, padded: [count, length].</summary>
    public Tensor QueryBatch(IEnumerable<int> documents, int paddingId, Device device) => Pad(documents.Select(d => queryTokens[d]), paddingId, device);

    /// <summary>Draws distinct training targets for one batch.</summary>
    public int[] TrainingBatch(int size, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var targets = new HashSet<int>();
        while (targets.Count < size)
        {
            targets.Add(TrainingTargets[random.Next(TrainingTargets.Length)]);
        }

        return [.. targets];
    }

    private static long[] Map(IReadOnlyList<int> ids, Dictionary<int, long> index, int maxTokens)
    {
        var mapped = new List<long>(Math.Min(ids.Count, maxTokens));
        foreach (var id in ids)
        {
            if (mapped.Count == maxTokens)
            {
                break;
            }

            if (index.TryGetValue(id, out var term))
            {
                mapped.Add(term);
            }
        }

        return [.. mapped];
    }

    private static Tensor Pad(IEnumerable<long[]> rows, int paddingId, Device device)
    {
        var list = rows.ToList();
        var length = Math.Max(1, list.Max(r => r.Length));
        var data = new long[list.Count * length];
        Array.Fill(data, paddingId);
        for (var r = 0; r < list.Count; r++)
        {
            list[r].CopyTo(data, r * length);
        }

        return tensor(data, [list.Count, length], device: device);
    }
}
