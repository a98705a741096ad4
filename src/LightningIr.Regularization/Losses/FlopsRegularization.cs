namespace LightningIr.Regularization;

/// <summary>
/// FLOPS regularization: <c>λq · Σⱼ (mean over the batch of |qⱼ|)² + λd · Σⱼ (mean over the batch of |dⱼ|)²</c>,
/// summed over every position j left after the batch mean (for <c>[batch, seq, vocab]</c> embeddings, every
/// sequence position and term).
/// </summary>
/// <remarks>
/// <para>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.regularization.FLOPSRegularization</c>; the penalty is
/// from Paria et al., "Minimizing FLOPs to Learn Efficient Sparse Representations" (ICLR 2020,
/// arXiv:2004.05665) and is the regularizer of SPLADE (Formal et al., SIGIR 2021). The mean activation of
/// term j over a batch estimates how often j is used; its square sum is a smooth stand-in for the
/// expected number of multiplications of a query–document dot product on an inverted index. Unlike L1 it
/// punishes terms that are active across many vectors (dense "stop-word" columns) far more than rare
/// ones, which makes posting lists short and balanced. It is 2-homogeneous: doubling the vectors
/// quadruples it. Typical SPLADE weights are λq ≈ 1e-4…3e-4 and λd ≈ 1e-4…1e-3, reached after a
/// quadratic warmup.
/// </para>
/// <para>
/// Thresholds (an extension, after sentence-transformers' <c>FlopsLoss(threshold=…)</c>, "FLOPS with L0
/// masking", arXiv:2504.14839): a vector whose count of non-zero entries is at most the side's threshold
/// is left out of the penalty (counted as zeros, while the batch mean still divides by the full batch),
/// so vectors that are already sparse are not pushed further and receive no gradient from it.
/// <see langword="null"/> turns it off and gives exactly Lightning IR's value.
/// </para>
/// <para>
/// With <see cref="RegularizationLossFunction.UseScoringMask"/> on, padding vectors count as zeros.
/// </para>
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
    /// <summary>Creates the FLOPS regularizer.</summary>
    /// <param name="queryWeight">λq, the weight of the query penalty (Lightning IR's default 1e-4).</param>
    /// <param name="docWeight">λd, the weight of the document penalty (Lightning IR's default 1e-4).</param>
    /// <param name="queryThreshold">
    /// Query vectors with at most this many non-zero entries are left out of the penalty; <see langword="null"/> (default) keeps all.
    /// </param>
    /// <param name="docThreshold">
    /// Document vectors with at most this many non-zero entries are left out of the penalty; <see langword="null"/> (default) keeps all.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is NaN, infinite or negative, or a threshold is negative.</exception>
    public FlopsRegularization(
        double queryWeight = DefaultWeight,
        double docWeight = DefaultWeight,
        int? queryThreshold = null,
        int? docThreshold = null)
        : base(queryWeight, docWeight)
    {
        QueryThreshold = CheckThreshold(queryThreshold, nameof(queryThreshold));
        DocThreshold = CheckThreshold(docThreshold, nameof(docThreshold));
    }

    /// <summary>Query vectors with at most this many non-zero entries are left out; <see langword="null"/> = off.</summary>
    public int? QueryThreshold { get; }

    /// <summary>Document vectors with at most this many non-zero entries are left out; <see langword="null"/> = off.</summary>
    public int? DocThreshold { get; }

    /// <inheritdoc/>
    protected override Tensor ComputePenalty(Tensor embeddings, Tensor? scoringMask, RegularizationSide side)
        => Penalties.Flops(embeddings, scoringMask, side == RegularizationSide.Query ? QueryThreshold : DocThreshold);

    private static int? CheckThreshold(int? threshold, string paramName)
    {
        if (threshold < 0)
        {
            throw new ArgumentOutOfRangeException(
                paramName, threshold, $"An activation threshold must be ≥ 0 (or null for none), but {paramName} was {threshold}.");
        }

        return threshold;
    }
}
