namespace LightningIr.Regularization;

/// <summary>
/// Per-term weights for <see cref="FlopsRegularization.QueryTermWeights"/> and <see cref="FlopsRegularization.DocTermWeights"/>.
/// </summary>
/// <remarks>No Lightning IR counterpart: DF-FLOPS is from Porco et al., SIGIR 2025 (arXiv:2505.15070).</remarks>
public static class TermWeighting
{
    /// <summary>
    /// DF-FLOPS's activation of the document-frequency fractions, <c>1 / (1 + (x^(log_α 2) − 1)^β)</c>: 0 at x = 0,
    /// ½ at x = α, 1 at x = 1, rising in between. Computed in float64, returned in the fractions' dtype.
    /// </summary>
    /// <param name="fractions">Document-frequency fractions in [0, 1], such as <see cref="DocumentFrequencyEstimator.Fractions"/> gives.</param>
    /// <param name="alpha">The fraction whose weight is ½: 0 &lt; α &lt; 1.</param>
    /// <param name="beta">The steepness around α: β &gt; 0 and finite.</param>
    /// <returns>The weights, shaped like <paramref name="fractions"/>, on its device, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="fractions"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="fractions"/> is disposed or not floating point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">α or β is out of range, or a fraction lies outside [0, 1] (checking reads one value to the host).</exception>
    public static Tensor DocumentFrequencyWeights(Tensor fractions, double alpha, double beta)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α is the document-frequency fraction whose weight is ½ and must lie strictly between 0 and 1.");
        }

        if (!(beta > 0 && double.IsFinite(beta)))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "β is the steepness of the weights around α and must be a finite number > 0.");
        }

        if (fractions.IsInvalid || !fractions.is_floating_point())
        {
            throw new ArgumentException(
                fractions.IsInvalid ? "The fractions tensor has been disposed." : $"The fractions must be a floating-point tensor, but have dtype {fractions.dtype}.",
                nameof(fractions));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = fractions.to(ScalarType.Float64);
        if (x.lt(0).logical_or(x.gt(1)).logical_or(x.isnan()).any().cpu().item<bool>())
        {
            throw new ArgumentOutOfRangeException(nameof(fractions), "Document-frequency fractions must lie in [0, 1], but some are outside or NaN.");
        }

        // x^(log_α 2) is +∞ at x = 0 (the exponent is negative) and 1 at x = 1: the edges are defined explicitly so
        // that neither depends on how pow treats 0 and ∞.
        var exponent = Math.Log(2) / Math.Log(alpha);
        var interior = x.pow(exponent).sub(1).pow(beta).add(1).reciprocal();
        var weights = where(x.eq(0), 0.0, where(x.eq(1), 1.0, interior));
        return weights.to(fractions.dtype).MoveToOuterDisposeScope();
    }
}
