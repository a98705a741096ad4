namespace LightningIr.Regularization;

/// <summary>
/// L2 regularization: the mean Euclidean norm of the query vectors and of the document vectors,
/// <c>λq · mean(‖q‖₂) + λd · mean(‖d‖₂)</c>, the norm taken over the last dimension and the mean over all
/// other positions.
/// </summary>
/// <remarks>
/// Counterpart of Lightning IR's <c>lightning_ir.loss.regularization.L2Regularization</c>, which penalises the norm itself,
/// not its square. Cites Hoerl &amp; Kennard, "Ridge Regression: Biased Estimation for Nonorthogonal Problems" (1970).
/// </remarks>
/// <example>
/// <code>
/// var l2 = new L2Regularization(queryWeight: 1e-4, docWeight: 1e-4);
/// using var scope = torch.NewDisposeScope();
/// var loss = rankingLoss + l2.ComputeLoss(output);
/// loss.backward();
/// </code>
/// </example>
public class L2Regularization : RegularizationLossFunction
{
    private static readonly VectorNormPenalty Penalty = new(2);

    /// <summary>Creates the L2 regularizer.</summary>
    /// <param name="queryWeight">λq, the weight of the query penalty (Lightning IR's default 1e-4).</param>
    /// <param name="docWeight">λd, the weight of the document penalty (Lightning IR's default 1e-4).</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is NaN, infinite or negative.</exception>
    public L2Regularization(double queryWeight = DefaultWeight, double docWeight = DefaultWeight)
        : base(queryWeight, docWeight)
    {
    }

    /// <summary>The mean Euclidean norm, <see cref="VectorNormPenalty"/> of order 2, on both sides.</summary>
    /// <param name="side">Either side.</param>
    /// <returns>The penalty.</returns>
    protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => Penalty;
}
