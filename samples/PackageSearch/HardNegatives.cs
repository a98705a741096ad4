namespace PackageSearch;

/// <summary>For each training target, the top documents BM25 ranks for its synopsis, the target itself left out.</summary>
public sealed class HardNegatives
{
    private readonly Dictionary<int, int[]> ranked;
    private readonly int documentCount;

    private HardNegatives(Dictionary<int, int[]> ranked, int documentCount)
    {
        this.ranked = ranked;
        this.documentCount = documentCount;
    }

    /// <summary>Searches the BM25 index for every training query (one thread).</summary>
    public static HardNegatives Mine(SearchIndex bm25, KnownItemCorpus corpus, int depth, Action<int> onQuery)
    {
        ArgumentNullException.ThrowIfNull(bm25);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(onQuery);
        var ranked = new Dictionary<int, int[]>(corpus.TrainingTargets.Length);
        for (var i = 0; i < corpus.TrainingTargets.Length; i++)
        {
            var target = corpus.TrainingTargets[i];
            var hits = bm25.Search(KeywordIndex.Bm25Query(corpus.Documents[target].Synopsis), depth + 1);
            ranked[target] = hits.Where(h => h != target).Take(depth).ToArray();
            onQuery(i + 1);
        }

        return new HardNegatives(ranked, corpus.Documents.Count);
    }

    /// <summary>One of the target's hard negatives, or a random other document of the collection when BM25 found none.</summary>
    public int Draw(int target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var candidates = ranked[target];
        if (candidates.Length > 0)
        {
            return candidates[random.Next(candidates.Length)];
        }

        var other = random.Next(documentCount - 1);
        return other >= target ? other + 1 : other;
    }
}
