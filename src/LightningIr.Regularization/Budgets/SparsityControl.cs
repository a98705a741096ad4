namespace LightningIr.Regularization;

/// <summary>
/// The control law of one sparsity target (version 4), in logarithms of the measurement m, the level t it steers to
/// (the target, or an explicit warmup's level) and the weight λ (the guide's "How it moves λ"):
/// <list type="number">
/// <item>the smoothed measurement s (a running mean of ln m) and its velocity v (a running mean of the change of s);</item>
/// <item>the distance d = s − ln t, and the speed the law asks for towards t: <see cref="Approach"/> · |d|, within
/// [<see cref="MinSpeed"/>, <see cref="MaxSpeed"/>];</item>
/// <item>ln λ += rate · clip(d, ±ln 2) · clip(1 − ρ, −<see cref="Brake"/>, 1), where ρ is the model's speed towards t as a
/// share of the speed asked for: λ grows while the model is slower than asked, holds when it is as fast, falls when it is
/// faster; <see cref="DecreaseFactor"/> times faster downwards while the model is more than 25% below t and not coming back
/// as fast as asked;</item>
/// <item>since the anchor (the last update at which s moved by more than 5% or was within 10% of the target), ln λ stays
/// within ±ln <see cref="WindupLimit"/> of its value there; a target more than 10% denser than t whose λ has reached that
/// limit, or whose s has not moved for <see cref="Patience"/> updates, is stalled: λ no longer grows.</item>
/// </list>
/// Statuses are read from the state this law keeps (<c>Tracking</c> needs s within ±10% of the target for
/// <see cref="Hold"/> updates); the law reads no status.
/// </summary>
internal static class SparsityControl
{
    /// <summary>The default integrator rate: ln λ changes by at most 0.2 · ln 2 ≈ 0.14 per update (×1.15).</summary>
    internal const double DefaultRate = 0.2;

    /// <summary>The error's clip, in ln: a factor 2.</summary>
    internal static readonly double Clip = Math.Log(2);

    /// <summary>The speed asked for, per unit of ln distance: 3% of the remaining distance per update.</summary>
    internal const double Approach = 0.03;

    /// <summary>The smallest speed asked for, in ln per update: 0.2%.</summary>
    internal const double MinSpeed = 0.002;

    /// <summary>The largest speed asked for, in ln per update: 8%.</summary>
    internal const double MaxSpeed = 0.08;

    /// <summary>How hard a model faster than asked is braked: the integrator's factor reaches −2 at three times the speed asked for.</summary>
    internal const double Brake = 2;

    /// <summary>How much faster λ falls than it rises while the model is far below its level and not coming back: it is losing terms it may not regain.</summary>
    internal const double DecreaseFactor = 3;

    /// <summary>A model this far (in ln) below its level falls <see cref="DecreaseFactor"/> times faster: 25%.</summary>
    internal static readonly double FastDecrease = Math.Log(1.25);

    /// <summary>The weight of the newest ln m in the smoothed measurement.</summary>
    internal const double Smoothing = 0.1;

    /// <summary>The weight of the newest change of the smoothed measurement in its velocity.</summary>
    internal const double VelocitySmoothing = 0.2;

    /// <summary>A target is tracked within ±10%.</summary>
    internal static readonly double Tolerance = Math.Log(1.1);

    /// <summary>A smoothed measurement that moves by more than 5% from its anchor has responded: the anchor moves there.</summary>
    internal static readonly double Response = Math.Log(1.05);

    /// <summary>Updates without a response, denser than the target, after which the target is stalled.</summary>
    internal const long Patience = 200;

    /// <summary>How far λ may move from its value at the anchor, either way: 80×.</summary>
    internal const double WindupLimit = 80;

    /// <summary>ln <see cref="WindupLimit"/>: the largest |change of ln λ| since the anchor.</summary>
    internal static readonly double MaxRise = Math.Log(WindupLimit);

    /// <summary>Updates a target's smoothed measurement must have held within ±10% before it reads Tracking: a measurement that only passes through the band, or swings through it, does not.</summary>
    internal const long Hold = 25;

    /// <summary>Levels closer than this (in ln) are the same level.</summary>
    internal const double LevelTolerance = 1e-9;

    /// <summary>The result of one update of one target.</summary>
    /// <param name="State">The target's next state; its status is provisional until <see cref="Classify"/>.</param>
    /// <param name="LogChange">The change of ln λ.</param>
    internal readonly record struct Move(SparsityTargetState State, double LogChange);

    internal static Move Advance(SparsityTargetState? previous, double measured, double target, long step, long warmupSteps, double rate)
    {
        var start = previous?.Start ?? measured;
        var level = Scheduled(start, target, step, warmupSteps);
        var goal = Math.Log(level);
        var now = Math.Log(Math.Max(measured, target / 1000));
        var last = previous is null ? now : Math.Log(previous.Smoothed);
        var smoothed = last + (Smoothing * (now - last));
        var velocity = previous is null ? 0 : previous.Velocity + (VelocitySmoothing * (smoothed - last - previous.Velocity));
        var distance = smoothed - goal;
        var asked = Math.Clamp(Approach * Math.Abs(distance), MinSpeed, MaxSpeed);
        var speed = -Math.Sign(distance) * velocity / asked;
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var falling = distance < -FastDecrease && speed < 1;
        var change = rate * Math.Clamp(distance, -Clip, Clip) * Math.Clamp(1 - speed, -Brake, 1) * (falling ? DecreaseFactor : 1);

        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var moved = previous is null || Math.Abs(smoothed - Math.Log(target)) <= Tolerance
            || Math.Abs(smoothed - Math.Log(previous.Anchor)) > Response;
        var anchorStep = moved ? step : previous!.AnchorStep;
        var rise = moved ? 0 : previous!.Rise;
        if (Stalled(Math.Exp(smoothed), target, step, anchorStep, rise))
        {
            change = Math.Min(change, 0);
        }

        change = Math.Clamp(change, -MaxRise - rise, MaxRise - rise);
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var inside = Math.Abs(smoothed - Math.Log(target)) <= Tolerance;
        var heldSince = !inside ? -1 : previous is { HeldSince: >= 0 } ? previous.HeldSince : step;
        var state = new SparsityTargetState(
            start,
            level,
            Math.Exp(smoothed),
            moved ? Math.Exp(smoothed) : previous!.Anchor,
            anchorStep,
            previous?.Status ?? SparsityBudgetStatus.Warmup,
            velocity,
            rise + change,
            heldSince);
        return new Move(state, change);
    }

    /// <summary>
    /// Whether a target denser than it should be has stopped responding: its smoothed measurement has stayed within 5% of
    /// its anchor for <see cref="Patience"/> updates, or λ has risen <see cref="WindupLimit"/> times above its value there.
    /// </summary>
    // Stryker disable once Equality : boundaries of continuous levels (10% above the target, the windup limit less 1e-9), met only on a set of measure zero.
    internal static bool Stalled(double smoothed, double target, long step, long anchorStep, double rise)
        => Math.Log(smoothed / target) > Tolerance && (step - anchorStep >= Patience || rise >= MaxRise - LevelTolerance);

    /// <summary>Whether a rise is one this law can leave in a state: within ±<see cref="MaxRise"/>, give or take rounding.</summary>
    // Stryker disable once Equality : the bound is 1e-9 beyond the limit, a boundary met only on a set of measure zero.
    internal static bool WithinWindup(double rise) => Math.Abs(rise) <= MaxRise + LevelTolerance;

    /// <summary>The target's status once the weights have moved, read from its state.</summary>
    internal static SparsityBudgetStatus Classify(SparsityTargetState state, double target, bool isL0, long step, bool atMinWeight, bool atMaxWeight)
    {
        var collapse = isL0 ? Math.Min(1, target / 10) : target / 100;
        var ratio = state.Smoothed / target;
        // λ as low as it goes: at the smallest weight, or lowered the whole windup limit since the measurement last moved.
        // Stryker disable once Equality : a boundary 1e-9 inside the limit, met only on a set of measure zero.
        var atFloor = atMinWeight || state.Rise <= -MaxRise + LevelTolerance;
        // Driven from above the target to below it, and held there with λ at its floor: the penalty killed terms, which do
        // not come back. A model that started sparser than the target is sparse by itself (Slack).
        // Stryker disable once Equality : boundaries of continuous levels, met only on a set of measure zero.
        var driven = Math.Log(ratio) < -Tolerance && atFloor && Math.Log(state.Start / target) > Tolerance;
        if (state.Smoothed < collapse || driven)
        {
            return SparsityBudgetStatus.Collapsed;
        }

        if (state.HeldSince >= 0 && step - state.HeldSince >= Hold)
        {
            return SparsityBudgetStatus.Tracking;
        }

        // Stryker disable once Equality : the tolerance's edge, a boundary of continuous levels (the edge is tested as included).
        var near = Math.Abs(Math.Log(ratio)) <= Tolerance;

        // Stryker disable once Equality : a level exactly 1e-9 (in ln) from the target is a set of measure zero.
        var levelAtTarget = Math.Abs(Math.Log(state.Reference / target)) <= LevelTolerance;
        // Stryker disable once Equality : ratio = 1 is near the target, returned below.
        var denser = ratio > 1;
        // Near the target but not held there (arrived less than Hold updates ago, or swinging through): not there yet,
        // whatever λ does.
        return !near && !denser && atFloor ? SparsityBudgetStatus.Slack
            : !near && denser && (atMaxWeight || Stalled(state.Smoothed, target, step, state.AnchorStep, state.Rise)) ? SparsityBudgetStatus.Unreachable
            : levelAtTarget ? SparsityBudgetStatus.Converging
            : SparsityBudgetStatus.Warmup;
    }

    /// <summary>The explicit warmup's level at <paramref name="step"/>: geometric from the first measurement to the stated value, which it is from <paramref name="warmupSteps"/> on (from the first update without a warmup).</summary>
    internal static double Scheduled(double start, double target, long step, long warmupSteps)
    {
        if (step >= warmupSteps)
        {
            return target;
        }

        var progress = (double)step / warmupSteps;
        return Math.Exp(((1 - progress) * Math.Log(Math.Max(start, target / 100))) + (progress * Math.Log(target)));
    }
}
