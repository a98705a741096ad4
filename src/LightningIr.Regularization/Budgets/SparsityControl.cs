namespace LightningIr.Regularization;

/// <summary>
/// The control law of one sparsity target, in logarithms of the measurement m, the target t and the weight λ (the
/// guide's "How it moves λ"):
/// <list type="number">
/// <item>the reference r starts at the first measurement and moves towards t by at most <see cref="Pace"/> per update,
/// and only while the model follows (m within a factor 2 of r); an explicit warmup replaces it by a geometric schedule;</item>
/// <item>the error e = ln(m / r), clipped to ±ln 2;</item>
/// <item>the integrator ln μ += rate · e when the model lags (e &gt; 0), <see cref="DecreaseFactor"/> × rate · e when it is
/// ahead; frozen at the bounds, and not growing while the target is unreachable;</item>
/// <item>the weight λ = μ · exp(<see cref="ProportionalGain"/> · e): the proportional reaction stays within ×¼ to ×4.</item>
/// </list>
/// </summary>
internal static class SparsityControl
{
    /// <summary>The largest change of ln r per update: 1%.</summary>
    internal const double Pace = 0.01;

    /// <summary>How far the measurement may trail the reference, in ln, for the reference to advance, and the error's clip.</summary>
    internal static readonly double Lead = Math.Log(2);

    /// <summary>λ = μ · exp(gain · e).</summary>
    internal const double ProportionalGain = 2;

    /// <summary>How much faster the integrator falls than it rises: a model ahead of its reference is about to lose terms it cannot regain.</summary>
    internal const double DecreaseFactor = 5;

    /// <summary>A model this far (in ln) ahead of its reference has too large a weight: the integrator falls <see cref="DecreaseFactor"/> times faster.</summary>
    internal static readonly double FastDecrease = Math.Log(1.25);

    /// <summary>The default integrator rate.</summary>
    internal const double DefaultRate = 0.1;

    /// <summary>The status's smoothing: the weight of the newest ln m in the running mean.</summary>
    internal const double Smoothing = 0.1;

    /// <summary>A target is tracked within ±10%.</summary>
    internal static readonly double Tolerance = Math.Log(1.1);

    /// <summary>Updates in which the smoothed measurement stays within 10% of its anchor, denser than the target, after which the target is unreachable.</summary>
    internal const long Patience = 400;

    /// <summary>The result of one update of one target.</summary>
    /// <param name="State">The target's next state; its status is provisional until <see cref="Classify"/>.</param>
    /// <param name="Error">e, for the proportional reaction.</param>
    /// <param name="LogChange">The change of ln μ, before the bounds.</param>
    internal readonly record struct Move(SparsityTargetState State, double Error, double LogChange);

    internal static Move Advance(SparsityTargetState? previous, double measured, double target, long step, long warmupSteps, double rate)
    {
        var goal = Math.Log(target);
        var now = Math.Log(Math.Max(measured, target / 1000));
        var start = previous?.Start ?? measured;
        var reference = warmupSteps > 0 ? Math.Log(Scheduled(start, target, step, warmupSteps))
            : previous is null ? now
            : Approach(Math.Log(previous.Reference), goal, now);
        var error = Math.Clamp(now - reference, -Lead, Lead);
        var last = previous is null ? now : Math.Log(previous.Smoothed);
        var smoothed = last + (Smoothing * (now - last));
        // The integrator moves only by the part of the error the model is not already closing: a model that moves towards
        // the reference at the pace or faster is following, and a larger or smaller λ would only wind up.
        var following = Math.Clamp(-Math.Sign(error) * (smoothed - last) / Pace, 0, 1);
        // Stryker disable once Equality : a boundary of a continuous error; the two sides meet only on a set of measure zero.
        var change = rate * error * (error < -FastDecrease ? DecreaseFactor : 1) * (1 - following);
        if (previous?.Status == SparsityBudgetStatus.Unreachable)
        {
            change = Math.Min(change, 0);
        }

        // The anchor is where the smoothed measurement last moved by 10% or was tracked: a measurement that stays near its anchor has stopped moving.
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var moved = previous is null || Math.Abs(smoothed - goal) <= Tolerance || Math.Abs(smoothed - Math.Log(previous.Anchor)) > Tolerance;
        var state = new SparsityTargetState(
            start,
            reference == goal ? target : Math.Exp(reference),
            Math.Exp(smoothed),
            moved ? Math.Exp(smoothed) : previous!.Anchor,
            moved ? step : previous!.AnchorStep,
            previous?.Status ?? SparsityBudgetStatus.Warmup);
        return new Move(state, error, change);
    }

    /// <summary>The target's status once the weights have moved.</summary>
    internal static SparsityBudgetStatus Classify(SparsityTargetState state, double target, bool isL0, long step, bool atMinWeight, bool atMaxWeight)
    {
        var collapse = isL0 ? Math.Min(1, target / 10) : target / 100;
        var ratio = state.Smoothed / target;
        // Both references, the built-in one and an explicit warmup's, end at the target exactly.
        var referenceAtTarget = state.Reference == target;
        return state.Smoothed < collapse ? SparsityBudgetStatus.Collapsed
            : Math.Abs(Math.Log(ratio)) <= Tolerance && referenceAtTarget ? SparsityBudgetStatus.Tracking
            : ratio < 1 && atMinWeight ? SparsityBudgetStatus.Slack
            : ratio > 1 && (atMaxWeight || step - state.AnchorStep >= Patience) ? SparsityBudgetStatus.Unreachable
            : referenceAtTarget ? SparsityBudgetStatus.Converging
            : SparsityBudgetStatus.Warmup;
    }

    /// <summary>The explicit warmup's target at <paramref name="step"/>: geometric from the first measurement to the stated value.</summary>
    internal static double Scheduled(double start, double target, long step, long warmupSteps)
    {
        if (step >= warmupSteps)
        {
            return target;
        }

        var progress = (double)step / warmupSteps;
        return Math.Exp(((1 - progress) * Math.Log(Math.Max(start, target / 100))) + (progress * Math.Log(target)));
    }

    /// <summary>One step of the built-in reference: towards the goal by at most <see cref="Pace"/>, while the measurement follows.</summary>
    private static double Approach(double reference, double goal, double now)
    {
        // How far the model trails the reference in the direction the reference travels.
        var lag = Math.Sign(goal - reference) * (reference - now);
        // Stryker disable once Equality : a boundary of a continuous lag, met only on a set of measure zero.
        if (lag > Lead)
        {
            return reference;
        }

        // The last step lands on the goal exactly, so that the status can tell the reference has arrived.
        // Stryker disable once Equality : exactly one pace away, both sides reach the goal (or its neighbouring double) this update.
        return Math.Abs(goal - reference) <= Pace ? goal : reference + (Math.Sign(goal - reference) * Pace);
    }
}
