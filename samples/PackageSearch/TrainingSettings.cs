namespace PackageSearch;

/// <summary>How the models are trained, by name.</summary>
public sealed record TrainingSettings
{
    /// <summary>Optimizer steps per model.</summary>
    public required int Steps { get; init; }

    /// <summary>Queries per step; each brings its document and its hard negatives.</summary>
    public required int BatchSize { get; init; }

    /// <summary>BM25 hard negatives per query in each batch (three by default: one and six did worse on the validation queries).</summary>
    public int HardNegatives { get; init; } = 3;

    /// <summary>The width of the term embeddings and context layers.</summary>
    public int HiddenSize { get; init; } = 32;

    /// <summary>Adam's learning rate of the per-term factors and of BM25's k1 and b (the shared layers learn 30 times slower).</summary>
    public required double LearningRate { get; init; }

    /// <summary>λq of the fixed-λ models.</summary>
    public required double QueryWeight { get; init; }

    /// <summary>λd of the fixed-λ models.</summary>
    public required double DocWeight { get; init; }

    /// <summary>The fraction of the steps over which fixed λ warms up quadratically.</summary>
    public double WarmupRatio { get; init; } = 1.0 / 3;

    /// <summary>DF-FLOPS re-estimates document frequencies every this many steps.</summary>
    public required int FrequencyEvery { get; init; }

    /// <summary>The factor on λ of the fixed-λ DF-FLOPS model (its term weights below 1 lower the total penalty).</summary>
    public required double FrequencyScale { get; init; }

    /// <summary>DF-FLOPS α: the document-frequency fraction at which a term pays half the penalty.</summary>
    public required double Alpha { get; init; }

    /// <summary>DF-FLOPS β: how sharply the penalty turns around α.</summary>
    public required double Beta { get; init; }

    /// <summary>The seed of the initial weights and the batches.</summary>
    public required int Seed { get; init; }

    /// <summary>A query budget for the budgeted models (mean terms per query), or <see langword="null"/> for fixed λq.</summary>
    public double? QueryL0 { get; init; }

    /// <summary>
    /// Whether the document penalty acts on the whole document vector, the lexical part (the documents' own terms)
    /// included; by default it acts on the expansion head's output alone. Budgets measure the whole vector either way.
    /// On the validation queries, a 34-term document budget scored 0.665 MRR@10 penalising the expansions alone and
    /// 0.542 penalising the whole vector, at the same postings.
    /// </summary>
    public bool PenalizeOwnTerms { get; init; }

    /// <summary>Whether a query term's factor depends on the query (a model at query time) or is one weight per term (a table).</summary>
    public bool ContextualQueries { get; init; }
}
