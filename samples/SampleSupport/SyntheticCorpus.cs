namespace SampleSupport;

/// <summary>
/// A seeded synthetic retrieval task with topic structure: a vocabulary of common "stop words" and
/// topical terms, documents drawn from a topic plus a few signature terms of their own, and queries
/// drawn from a target document with noise.
/// </summary>
public sealed class SyntheticCorpus
{
    private const int StopWordCount = 150;
    private const int TermsPerTopic = 120;
    private const int SignatureTerms = 4;

    private readonly int[][] topicTerms;
    private readonly double[] stopWordCdf;
    private readonly double[] topicTermCdf;
    private readonly int[][] signatures;
    private readonly int[] docTopic;

    /// <summary>Builds the collection and its held-out evaluation queries from <paramref name="seed"/>.</summary>
    public SyntheticCorpus(int seed, int vocabularySize = 2000, int topics = 25, int documents = 2000, int documentLength = 32, int queryLength = 6, int evaluationQueries = 250)
    {
        VocabularySize = vocabularySize;
        DocumentLength = documentLength;
        QueryLength = queryLength;
        var random = new Random(seed);
        stopWordCdf = ZipfCdf(StopWordCount);
        topicTermCdf = ZipfCdf(TermsPerTopic);
        topicTerms = new int[topics][];
        for (var t = 0; t < topics; t++)
        {
            topicTerms[t] = Enumerable.Range(StopWordCount, vocabularySize - StopWordCount)
                .OrderBy(_ => random.Next()).Take(TermsPerTopic).ToArray();
        }

        docTopic = new int[documents];
        signatures = new int[documents][];
        Documents = new long[documents, documentLength];
        for (var d = 0; d < documents; d++)
        {
            docTopic[d] = d % topics;
            signatures[d] = Enumerable.Range(0, SignatureTerms).Select(_ => topicTerms[docTopic[d]][random.Next(TermsPerTopic)]).ToArray();
            for (var i = 0; i < documentLength; i++)
            {
                var u = random.NextDouble();
                Documents[d, i] = u < 0.3 ? StopWord(random) : u < 0.7 ? TopicTerm(docTopic[d], random) : signatures[d][random.Next(SignatureTerms)];
            }
        }

        var evaluation = new Random(seed + 1);
        EvaluationTargets = Enumerable.Range(0, evaluationQueries).Select(_ => evaluation.Next(documents)).ToArray();
        EvaluationQueries = new long[evaluationQueries, queryLength];
        for (var q = 0; q < evaluationQueries; q++)
        {
            FillQuery(EvaluationTargets[q], EvaluationQueries, q, evaluation);
        }
    }

    /// <summary>The number of terms.</summary>
    public int VocabularySize { get; }

    /// <summary>Tokens per document.</summary>
    public int DocumentLength { get; }

    /// <summary>Tokens per query.</summary>
    public int QueryLength { get; }

    /// <summary>The documents' token ids, [documents, length].</summary>
    public long[,] Documents { get; }

    /// <summary>Held-out queries' token ids, [queries, length].</summary>
    public long[,] EvaluationQueries { get; }

    /// <summary>The document each held-out query was drawn from.</summary>
    public int[] EvaluationTargets { get; }

    /// <summary>The number of documents.</summary>
    public int DocumentCount => Documents.GetLength(0);

    /// <summary>Draws a training batch of (query, target document) pairs with distinct targets.</summary>
    public (long[,] Queries, long[,] Documents) TrainingBatch(int size, Random random)
    {
        var targets = new HashSet<int>();
        while (targets.Count < size)
        {
            targets.Add(random.Next(DocumentCount));
        }

        var queries = new long[size, QueryLength];
        var documents = new long[size, DocumentLength];
        var row = 0;
        foreach (var target in targets)
        {
            FillQuery(target, queries, row, random);
            for (var i = 0; i < DocumentLength; i++)
            {
                documents[row, i] = Documents[target, i];
            }

            row++;
        }

        return (queries, documents);
    }

    /// <summary>
    /// Draws a batch of query groups: each query with its target document followed by <paramref name="negatives"/>
    /// other documents drawn at random, so that the documents are shaped [size · (1 + negatives), length].
    /// </summary>
    public (long[,] Queries, long[,] Documents) TrainingGroups(int size, int negatives, Random random)
    {
        var (queries, targets) = TrainingBatch(size, random);
        var groupSize = 1 + negatives;
        var documents = new long[size * groupSize, DocumentLength];
        for (var q = 0; q < size; q++)
        {
            for (var g = 0; g < groupSize; g++)
            {
                var source = g == 0 ? -1 : random.Next(DocumentCount);
                for (var i = 0; i < DocumentLength; i++)
                {
                    documents[(q * groupSize) + g, i] = g == 0 ? targets[q, i] : Documents[source, i];
                }
            }
        }

        return (queries, documents);
    }

    private void FillQuery(int document, long[,] queries, int row, Random random)
    {
        for (var i = 0; i < QueryLength; i++)
        {
            var u = random.NextDouble();
            queries[row, i] = u < 0.5 ? signatures[document][random.Next(SignatureTerms)]
                : u < 0.75 ? TopicTerm(docTopic[document], random)
                : u < 0.9 ? Documents[document, random.Next(DocumentLength)]
                : StopWord(random);
        }
    }

    private int StopWord(Random random) => Sample(stopWordCdf, random);

    private int TopicTerm(int topic, Random random) => topicTerms[topic][Sample(topicTermCdf, random)];

    private static int Sample(double[] cdf, Random random)
    {
        var index = Array.BinarySearch(cdf, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cdf.Length - 1);
    }

    private static double[] ZipfCdf(int n)
    {
        var weights = Enumerable.Range(1, n).Select(r => 1.0 / r).ToArray();
        var total = weights.Sum();
        var cdf = new double[n];
        var running = 0.0;
        for (var i = 0; i < n; i++)
        {
            running += weights[i] / total;
            cdf[i] = running;
        }

        return cdf;
    }
}
