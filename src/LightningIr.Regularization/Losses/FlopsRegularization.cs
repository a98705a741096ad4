namespace LightningIr.Regularization;

/// <summary>
/// FLOPS regularization: <c>λq · Σⱼ (mean over the batch of |qⱼ|)² + λd · Σⱼ (mean over the batch of |dⱼ|)²</c>,
/// summed over every position j left after the batch mean (for <c>[batch, seq, vocab]</c> embeddings, every
/// sequence position and term).
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.regularization.FLOPSRegularization</c>. Cites Paria et al., "Minimizing
/// FLOPs to Learn Efficient Sparse Representations" (ICLR 2020, arXiv:2004.05665); thresholds after sentence-transformers'
/// <c>FlopsLoss(threshold=…)</c> (arXiv:2504.14839); term weights after DF-FLOPS (Porco et al., SIGIR 2025, arXiv:2505.15070).
/// The guide <c>docs/losses.md</c> explains each setting.
/// </remarks>
/// <example>
/// <code>
/// var flops = new FlopsRegularization(queryWeight: 3e-4, docWeight: 1e-4);
/// var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 50_000);
/// // each step: schedule.Step(step); var loss = ranking + flops.ComputeLoss(output);
/// </code>
/// </example>
public class FlopsRegularization : RegularizationLossFunction
{
    private FlopsPenalty queryPenalty;
    private FlopsPenalty docPenalty;

    /// <summary>Creates the FLOPS regularizer.</summary>
    /// <param name="queryWeight">λq, the weight of the query penalty (Lightning IR's default 1e-4).</param>
    /// <param name="docWeight">λd, the weight of the document penalty (Lightning IR's default 1e-4).</param>
    /// <param name="queryThreshold">
    /// Query vectors with at most this many non-zero entries are left out of the penalty; <see langword="null"/> (default) keeps all.
    /// </param>
    /// <param name="docThreshold">
    /// Document vectors with at most this many non-zero entries are left out of the penalty; <see langword="null"/> (default) keeps all.
    /// </param>
    /// <param name="queryTermWeights">Per-term weights of the query penalty (see <see cref="QueryTermWeights"/>); <see langword="null"/> (default) for none.</param>
    /// <param name="docTermWeights">Per-term weights of the document penalty (see <see cref="DocTermWeights"/>); <see langword="null"/> (default) for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A weight is NaN, infinite or negative, a threshold is negative, or a term weight is negative or not finite.
    /// </exception>
    /// <exception cref="ArgumentException">A term weights tensor is disposed or not floating point.</exception>
    public FlopsRegularization(
        double queryWeight = DefaultWeight,
        double docWeight = DefaultWeight,
        int? queryThreshold = null,
        int? docThreshold = null,
        Tensor? queryTermWeights = null,
        Tensor? docTermWeights = null)
        : base(queryWeight, docWeight)
    {
        queryPenalty = new FlopsPenalty(
            Guard.CheckThreshold(queryThreshold, nameof(queryThreshold)), CheckTermWeights(queryTermWeights, nameof(queryTermWeights)));
        docPenalty = new FlopsPenalty(
            Guard.CheckThreshold(docThreshold, nameof(docThreshold)), CheckTermWeights(docTermWeights, nameof(docTermWeights)));
    }

    /// <summary>Query vectors with at most this many non-zero entries are left out; <see langword="null"/> = off.</summary>
    public int? QueryThreshold => queryPenalty.Threshold;

    /// <summary>Document vectors with at most this many non-zero entries are left out; <see langword="null"/> = off.</summary>
    public int? DocThreshold => docPenalty.Threshold;

    /// <summary>
    /// Per-term weights <c>w</c> of the query penalty, which becomes <c>Σⱼ wⱼ · (mean over the batch of |qⱼ|)²</c> (DF-FLOPS,
    /// Porco et al., SIGIR 2025, arXiv:2505.15070; no Lightning IR counterpart). <see langword="null"/> is plain FLOPS.
    /// A floating-point tensor of finite values ≥ 0 that broadcasts to the query vectors' shape and lives on their device;
    /// it is read at each computation and never receives gradient. The loss does not own it: keep it alive while it is set.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is disposed or not floating point (the old value is kept).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative or not finite (the old value is kept). Checking reads one value to the host.</exception>
    public Tensor? QueryTermWeights
    {
        get => queryPenalty.TermWeights;
        set => queryPenalty = new FlopsPenalty(QueryThreshold, CheckTermWeights(value, nameof(QueryTermWeights)));
    }

    /// <summary>
    /// Per-term weights <c>w</c> of the document penalty, which becomes <c>Σⱼ wⱼ · (mean over the batch of |dⱼ|)²</c> (DF-FLOPS,
    /// Porco et al., SIGIR 2025, arXiv:2505.15070; no Lightning IR counterpart). <see langword="null"/> is plain FLOPS.
    /// A floating-point tensor of finite values ≥ 0 that broadcasts to the document vectors' shape and lives on their device;
    /// it is read at each computation and never receives gradient. The loss does not own it: keep it alive while it is set.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is disposed or not floating point (the old value is kept).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative or not finite (the old value is kept). Checking reads one value to the host.</exception>
    public Tensor? DocTermWeights
    {
        get => docPenalty.TermWeights;
        set => docPenalty = new FlopsPenalty(DocThreshold, CheckTermWeights(value, nameof(DocTermWeights)));
    }

    /// <summary><c>FLOPSRegularization</c>, Lightning IR's class name; a subclass logs under its own class name.</summary>
    public override string Name => GetType() == typeof(FlopsRegularization) ? "FLOPSRegularization" : base.Name;

    /// <summary>The side's <see cref="FlopsPenalty"/>, with its threshold and term weights.</summary>
    /// <param name="side">The side.</param>
    /// <returns>The penalty.</returns>
    protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => side == RegularizationSide.Query ? queryPenalty : docPenalty;

    private static Tensor? CheckTermWeights(Tensor? weights, string paramName) => weights is null ? null : Guard.CheckTermWeights(weights, paramName);
}
