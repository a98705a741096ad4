namespace LightningIr.Regularization;

/// <summary>
/// The control law of one sparsity target, in logarithms of the measurement m, the target t and the weight λ (the
/// guide's "How it moves λ"):
/// <list type="number">
/// <item>the reference r starts at the first measurement and moves towards t by the current pace per update, only while
/// the model follows (m within a factor 2 of r); the pace grows while the model keeps within 10% of r and halves when it
/// falls behind; a model that has gone past r towards t takes r with it; an explicit warmup replaces all this by a
/// geometric schedule;</item>
/// <item>the error e = ln(m / r), clipped to ±ln 2;</item>
/// <item>the integrator ln μ += rate · e, <see cref="DecreaseFactor"/> × rate · e when the model is more than 25% ahead,
/// and only by the part of the error the model is not already closing; never more than <see cref="WindupLimit"/> above its value where the measurement last moved, and not growing
/// while the target is stalled;</item>
/// <item>the weight λ = μ · exp(<see cref="ProportionalGain"/> · e), the reaction bounded to ×¼ to ×4, and only downwards
/// while stalled.</item>
/// </list>
/// Statuses are read from the state this law keeps; the law reads no status.
/// </summary>
internal static class SparsityControl
{
    /// <summary>The smallest change of ln r per update, where every target's reference starts: 1%.</summary>
    internal const double MinPace = SparsityTargetState.InitialPace;

    /// <summary>The largest change of ln r per update: 8%.</summary>
    internal const double MaxPace = 0.08;

    /// <summary>The pace's growth per update while the model keeps within <see cref="Tolerance"/> of the reference.</summary>
    internal const double PaceGrowth = 1.1;

    /// <summary>How far the measurement may trail the reference, in ln, for the reference to advance, and the error's clip.</summary>
    internal static readonly double Lead = Math.Log(2);

    /// <summary>λ = μ · exp(gain · e).</summary>
    internal const double ProportionalGain = 2;

    /// <summary>How much faster the integrator falls than it rises once the model is far ahead: it is about to lose terms it cannot regain.</summary>
    internal const double DecreaseFactor = 5;

    /// <summary>A model this far (in ln) ahead of its reference has too large a weight: the integrator falls <see cref="DecreaseFactor"/> times faster.</summary>
    internal static readonly double FastDecrease = Math.Log(1.25);

    /// <summary>The default integrator rate.</summary>
    internal const double DefaultRate = 0.1;

    /// <summary>The status's smoothing: the weight of the newest ln m in the running mean.</summary>
    internal const double Smoothing = 0.1;

    /// <summary>A target is tracked within ±10%; a measurement that moves by more has responded.</summary>
    internal static readonly double Tolerance = Math.Log(1.1);

    /// <summary>Updates in which the smoothed measurement stays within 10% of its anchor, denser than the target, after which the target is stalled.</summary>
    internal const long Patience = 200;

    /// <summary>
    /// How far μ may rise above its value at the anchor (the last update at which the measurement moved): 20×. With the
    /// reaction held at ≤ 1 once stalled, λ then stays within 80× of its value at the anchor.
    /// </summary>
    internal const double WindupLimit = 20;

    /// <summary>The result of one update of one target.</summary>
    /// <param name="State">The target's next state; its status is provisional until <see cref="Classify"/>.</param>
    /// <param name="Reaction">The proportional error, for λ = μ · exp(gain · reaction).</param>
    /// <param name="LogChange">The change of ln μ, before the bounds.</param>
    internal readonly record struct Move(SparsityTargetState State, double Reaction, double LogChange);

    internal static Move Advance(SparsityTargetState? previous, double measured, double target, long step, long warmupSteps, double rate)
    {
        var goal = Math.Log(target);
        var now = Math.Log(Math.Max(measured, target / 1000));
        var start = previous?.Start ?? measured;
        var pace = previous?.Pace ?? MinPace;
        var reference = warmupSteps > 0 ? Math.Log(Scheduled(start, target, step, warmupSteps))
            : previous is null ? now
            : Approach(Math.Log(previous.Reference), goal, now, pace);
        var error = Math.Clamp(now - reference, -Lead, Lead);
        var last = previous is null ? now : Math.Log(previous.Smoothed);
        var smoothed = last + (Smoothing * (now - last));
        // The integrator moves only by the part of the error the model is not already closing: a model that moves towards
        // the reference at the pace or faster is following, and a larger or smaller λ would only wind up.
        var following = Math.Clamp(-Math.Sign(error) * (smoothed - last) / pace, 0, 1);
        // Stryker disable once Equality : a boundary of a continuous error; the two sides meet only on a set of measure zero.
        var change = rate * error * (error < -FastDecrease ? DecreaseFactor : 1) * (1 - following);

        // The anchor is where the smoothed measurement last moved by 10% or was tracked: a measurement that stays near its anchor has stopped moving.
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var moved = previous is null || Math.Abs(smoothed - goal) <= Tolerance
            || Math.Abs(smoothed - Math.Log(previous.Anchor)) > Tolerance;
        var anchorStep = moved ? step : previous!.AnchorStep;
        var rise = moved ? 0 : previous!.Rise;
        var stalled = Stalled(Math.Exp(smoothed), target, step, anchorStep, rise);
        if (stalled)
        {
            change = Math.Min(change, 0);
        }

        // μ rises at most WindupLimit times above its value at the anchor; it may fall any distance.
        change = Math.Min(change, Math.Log(WindupLimit) - rise);
        // Stryker disable once Equality : a reference exactly 1e-9 (in ln) from the goal is a set of measure zero.
        var state = new SparsityTargetState(
            start,
            Math.Abs(reference - goal) <= LevelTolerance ? target : Math.Exp(reference),
            Math.Exp(smoothed),
            moved ? Math.Exp(smoothed) : previous!.Anchor,
            anchorStep,
            previous?.Status ?? SparsityBudgetStatus.Warmup,
            NextPace(pace, now, reference, goal),
            rise + change);
        return new Move(state, stalled ? Math.Min(error, 0) : error, change);
    }

    /// <summary>Levels closer than this (in ln) are the same level: a reference this close to the goal has arrived.</summary>
    internal const double LevelTolerance = 1e-9;

    /// <summary>
    /// Whether a target denser than it should be has stopped responding: its smoothed measurement has stayed near one level
    /// for <see cref="Patience"/> updates, or μ has risen <see cref="WindupLimit"/> times above its value there.
    /// </summary>
    // Stryker disable once Equality : boundaries of continuous levels (10% above the target, the windup limit less 1e-9), met only on a set of measure zero.
    internal static bool Stalled(double smoothed, double target, long step, long anchorStep, double rise)
        => Math.Log(smoothed / target) > Tolerance && (step - anchorStep >= Patience || rise >= Math.Log(WindupLimit) - LevelTolerance);

    /// <summary>The target's status once the weights have moved, read from its state.</summary>
    internal static SparsityBudgetStatus Classify(SparsityTargetState state, double target, bool isL0, long step, bool atMinWeight, bool atMaxWeight)
    {
        var collapse = isL0 ? Math.Min(1, target / 10) : target / 100;
        var ratio = state.Smoothed / target;
        // Stryker disable once Equality : a reference exactly 1e-9 (in ln) from the target is a set of measure zero.
        var referenceAtTarget = Math.Abs(Math.Log(state.Reference / target)) <= LevelTolerance;
        // Driven from above the target to below it, and held there with no penalty left: the penalty killed terms, which do
        // not come back. A model that started sparser than the target is sparse by itself (Slack).
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var driven = Math.Log(ratio) < -Tolerance && atMinWeight && Math.Log(state.Start / target) > Tolerance;
        if (state.Smoothed < collapse || driven)
        {
            return SparsityBudgetStatus.Collapsed;
        }

        if (Math.Abs(Math.Log(ratio)) <= Tolerance)
        {
            return SparsityBudgetStatus.Tracking;
        }

        // Stryker disable once Equality : ratio = 1 is Tracking, returned above.
        var denser = ratio > 1;
        return !denser && atMinWeight ? SparsityBudgetStatus.Slack
            : denser && (atMaxWeight || Stalled(state.Smoothed, target, step, state.AnchorStep, state.Rise)) ? SparsityBudgetStatus.Unreachable
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

    /// <summary>
    /// The next pace: <see cref="PaceGrowth"/> times faster while the model keeps within <see cref="Tolerance"/> of the
    /// reference on its way, half as fast when it trails by more than <see cref="Lead"/>, within
    /// [<see cref="MinPace"/>, <see cref="MaxPace"/>].
    /// </summary>
    private static double NextPace(double pace, double now, double reference, double goal)
    {
        var lag = Lag(reference, goal, now);
        // Stryker disable once Equality : boundaries of a continuous lag, met only on a set of measure zero.
        var next = lag > Lead ? pace / 2 : Math.Abs(now - reference) <= Tolerance ? pace * PaceGrowth : pace;
        return Math.Clamp(next, MinPace, MaxPace);
    }

    /// <summary>One step of the built-in reference: towards the goal by at most <paramref name="pace"/>, while the measurement follows.</summary>
    private static double Approach(double reference, double goal, double now, double pace)
    {
        var lag = Lag(reference, goal, now);
        // Stryker disable once Equality : a boundary of a continuous lag, met only on a set of measure zero.
        if (lag > Lead)
        {
            return reference;
        }

        // A model ahead of the reference and not yet past the goal has gone there by itself: the reference follows it.
        if (lag < 0 && Math.Sign(goal - now) == Math.Sign(goal - reference))
        {
            return now;
        }

        // Stryker disable once Equality : exactly one pace away, both sides reach the goal (or its neighbouring double) this update.
        return Math.Abs(goal - reference) <= pace ? goal : reference + (Math.Sign(goal - reference) * pace);
    }

    /// <summary>How far the model trails the reference in the direction the reference travels (negative: ahead of it).</summary>
    private static double Lag(double reference, double goal, double now) => Math.Sign(goal - reference) * (reference - now);
}
