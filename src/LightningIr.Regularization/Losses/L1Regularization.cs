namespace LightningIr.Regularization;

/// <summary>
/// L1 regularization: the mean L1 norm of the query vectors and of the document vectors,
/// <c>λq · mean(‖q‖₁) + λd · mean(‖d‖₁)</c>, the norm taken over the last dimension and the mean over all
/// other positions.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.regularization.L1Regularization</c>. Cites Tibshirani, "Regression
/// Shrinkage and Selection via the Lasso" (1996).
/// </remarks>
/// <example>
/// <code>
/// var l1 = new L1Regularization(queryWeight: 1e-3, docWeight: 1e-3);
/// var loss = rankingLoss + l1.ComputeLoss(output);
/// </code>
/// </example>
public class L1Regularization : RegularizationLossFunction
{
    private static readonly VectorNormPenalty Penalty = new(1);

    /// <summary>Creates the L1 regularizer.</summary>
    /// <param name="queryWeight">λq, the weight of the query penalty (Lightning IR's default 1e-4).</param>
    /// <param name="docWeight">λd, the weight of the document penalty (Lightning IR's default 1e-4).</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is NaN, infinite or negative.</exception>
    public L1Regularization(double queryWeight = DefaultWeight, double docWeight = DefaultWeight)
        : base(queryWeight, docWeight)
    {
    }

    /// <summary>The mean L1 norm, <see cref="VectorNormPenalty"/> of order 1, on both sides.</summary>
    /// <param name="side">Either side.</param>
    /// <returns>The penalty.</returns>
    protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => Penalty;
}
