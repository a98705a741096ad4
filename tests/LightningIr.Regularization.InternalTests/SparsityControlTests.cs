namespace LightningIr.Regularization.InternalTests;

/// <summary>
/// The budget's control law (<see cref="SparsityControl"/>) called directly, at the boundaries of its rules: the
/// reference's walk and pace, the smoothing, the following gate, the fast decrease, the anchor, the windup bound and each
/// status rule.
/// </summary>
public sealed class SparsityControlTests
{
    private static readonly double Rate = SparsityControl.DefaultRate;

    private static SparsityTargetState State(
        double reference, double smoothed, double anchor = 1, long anchorStep = 0, SparsityBudgetStatus status = SparsityBudgetStatus.Converging,
        double start = 1000, double pace = SparsityTargetState.InitialPace, double rise = 0) =>
        new(start, reference, smoothed, anchor, anchorStep, status, pace, rise);

    [Fact]
    public void The_first_advance_starts_everything_at_the_measurement_with_no_error()
    {
        var move = SparsityControl.Advance(null, 80, 10, step: 3, warmupSteps: 0, Rate);
        move.State.Start.Should().Be(80);
        move.State.Reference.Should().BeApproximately(80, 1e-9);
        move.State.Smoothed.Should().BeApproximately(80, 1e-9);
        move.State.Anchor.Should().BeApproximately(80, 1e-9);
        move.State.AnchorStep.Should().Be(3);
        move.State.Status.Should().Be(SparsityBudgetStatus.Warmup);
        move.State.Pace.Should().BeApproximately(0.011, 1e-15, "the model is at its reference: the pace grows by 10%");
        move.State.Rise.Should().Be(0);
        move.Reaction.Should().Be(0);
        move.LogChange.Should().Be(0);
    }

    [Fact]
    public void Later_advances_keep_the_start_carry_the_status_and_smooth_the_measurement()
    {
        var previous = State(reference: 50, smoothed: 50, anchor: 50, anchorStep: 1, status: SparsityBudgetStatus.Converging, start: 80, pace: 0.02);
        var move = SparsityControl.Advance(previous, 51, 10, step: 2, warmupSteps: 0, Rate);
        move.State.Start.Should().Be(80, "the start is the first measurement");
        move.State.Status.Should().Be(SparsityBudgetStatus.Converging, "the status is provisional until Classify");
        move.State.Smoothed.Should().BeApproximately(Math.Exp(Math.Log(50) + (0.1 * Math.Log(51.0 / 50))), 1e-12);
        move.State.Reference.Should().BeApproximately(50 * Math.Exp(-0.02), 1e-12, "the reference walks at the state's pace");
        move.State.Pace.Should().BeApproximately(0.022, 1e-15);
    }

    [Fact]
    public void The_pace_grows_while_the_model_keeps_up_halves_when_it_trails_and_stays_within_its_bounds()
    {
        SparsityControl.Advance(State(reference: 50, smoothed: 52, pace: 0.05), 52, 10, 2, 0, Rate).State.Pace.Should().BeApproximately(0.055, 1e-15);
        SparsityControl.Advance(State(reference: 50, smoothed: 48, pace: 0.079), 48, 10, 2, 0, Rate).State.Pace.Should().Be(SparsityControl.MaxPace);
        SparsityControl.Advance(State(reference: 50, smoothed: 60, pace: 0.05), 60, 10, 2, 0, Rate).State.Pace.Should().Be(0.05, "between 10% and a factor 2 behind, the pace holds");
        SparsityControl.Advance(State(reference: 50, smoothed: 150, pace: 0.05), 150, 10, 2, 0, Rate).State.Pace.Should().Be(0.025);
        SparsityControl.Advance(State(reference: 50, smoothed: 150, pace: 0.011), 150, 10, 2, 0, Rate).State.Pace.Should().Be(SparsityControl.MinPace);
        SparsityControl.Advance(State(reference: 20, smoothed: 5, pace: 0.05), 5, 100, 2, 0, Rate).State.Pace.Should().Be(0.025, "trailing a rising reference");
    }

    [Fact]
    public void A_model_past_its_reference_towards_the_target_takes_the_reference_with_it_but_not_past_the_target()
    {
        SparsityControl.Advance(State(reference: 50, smoothed: 30), 30, 10, 2, 0, Rate).State.Reference.Should().BeApproximately(30, 1e-12);
        SparsityControl.Advance(State(reference: 20, smoothed: 40), 40, 100, 2, 0, Rate).State.Reference.Should().BeApproximately(40, 1e-12, "upwards as well");
        SparsityControl.Advance(State(reference: 50, smoothed: 5), 5, 10, 2, 0, Rate).State.Reference.Should().BeApproximately(50 * Math.Exp(-0.01), 1e-12, "past the target, the reference walks");
    }

    [Fact]
    public void The_integrator_moves_only_by_the_part_of_the_error_the_model_is_not_closing()
    {
        // Lagging (above the reference) but moving down towards it at 0.04 of the pace.
        var previous = State(reference: 20, smoothed: 25, anchor: 25);
        var move = SparsityControl.Advance(previous, 24.9, 10, step: 5, warmupSteps: 0, Rate);
        var reference = Math.Log(20) - 0.01;
        var error = Math.Log(24.9) - reference;
        var delta = 0.1 * (Math.Log(24.9) - Math.Log(25));
        var following = -delta / 0.01;
        following.Should().BeInRange(0.01, 0.99, "the case is between the gate's ends");
        move.Reaction.Should().BeApproximately(error, 1e-12);
        move.LogChange.Should().BeApproximately(Rate * error * (1 - following), 1e-12);
        move.State.Rise.Should().BeApproximately(move.LogChange, 1e-15, "the rise since the anchor accumulates the change");
    }

    [Fact]
    public void A_small_error_either_way_moves_at_the_plain_rate_and_only_a_model_far_ahead_moves_five_times_faster()
    {
        var target = 10;
        foreach (var measured in new[] { 11.0, 9.0, 7.0, 100.0 })
        {
            // warmupSteps = 1 at step 1: the reference is the target itself.
            var move = SparsityControl.Advance(State(reference: 10, smoothed: measured, anchor: measured), measured, target, step: 1, warmupSteps: 1, Rate);
            var error = Math.Clamp(Math.Log(measured / target), -Math.Log(2), Math.Log(2));
            move.Reaction.Should().BeApproximately(error, 1e-12);
            var factor = error < -Math.Log(1.25) ? 5 : 1;
            move.LogChange.Should().BeApproximately(Rate * error * factor, 1e-12, $"measured {measured}");
        }
    }

    [Fact]
    public void A_stalled_target_holds_its_weight_against_growth_but_lets_it_fall()
    {
        // 200 updates near one level, denser than the target.
        var up = SparsityControl.Advance(State(reference: 10, smoothed: 20, anchor: 20, anchorStep: 1), 20, 10, 201, 1, Rate);
        up.LogChange.Should().Be(0);
        up.Reaction.Should().Be(0, "the reaction only lowers λ while stalled");
        var early = SparsityControl.Advance(State(reference: 10, smoothed: 20, anchor: 20, anchorStep: 1), 20, 10, 200, 1, Rate);
        early.LogChange.Should().BeApproximately(Rate * Math.Log(2), 1e-12, "199 updates are not yet a stall");
        var down = SparsityControl.Advance(State(reference: 10, smoothed: 5, anchor: 5, anchorStep: 1), 5, 10, 500, 1, Rate);
        down.LogChange.Should().BeApproximately(Rate * 5 * Math.Log(0.5), 1e-12, "a sparser model is never stalled");
    }

    [Fact]
    public void A_model_sparser_than_its_target_is_never_stalled_and_may_gain_weight_behind_an_explicit_schedule()
    {
        // Target 100 over a 1,000-update warmup from 10: at update 300 the schedule asks for 10^1.3 ≈ 20; the model holds
        // 25, still since update 1. Above the schedule it lags (e > 0), below the target it is not stalled.
        var move = SparsityControl.Advance(State(reference: 20, smoothed: 25, anchor: 25, anchorStep: 1, start: 10), 25, 100, 300, 1000, Rate);
        var error = Math.Log(25 / Math.Pow(10, 1.3));
        move.LogChange.Should().BeApproximately(Rate * error, 1e-9);
        move.Reaction.Should().BeApproximately(error, 1e-9);
    }

    [Fact]
    public void The_integrator_rises_at_most_twenty_times_above_its_value_at_the_anchor_and_falls_freely()
    {
        var limit = Math.Log(SparsityControl.WindupLimit);
        var near = SparsityControl.Advance(State(reference: 10, smoothed: 20, anchor: 20, anchorStep: 1, rise: limit - 0.01), 20, 10, 5, 1, Rate);
        near.LogChange.Should().BeApproximately(0.01, 1e-12, "the rise stops at ln 20");
        near.State.Rise.Should().BeApproximately(limit, 1e-12);
        near.Reaction.Should().BeApproximately(Math.Log(2), 1e-12, "not yet stalled when this update began");
        var at = SparsityControl.Advance(near.State, 20, 10, 6, 1, Rate);
        at.LogChange.Should().Be(0);
        at.Reaction.Should().Be(0, "at the limit the target is stalled");
        var falling = SparsityControl.Advance(State(reference: 10, smoothed: 5, anchor: 5, anchorStep: 1, rise: -10), 5, 10, 5, 1, Rate);
        falling.LogChange.Should().BeApproximately(Rate * 5 * Math.Log(0.5), 1e-12);
        falling.State.Rise.Should().BeApproximately(-10 + falling.LogChange, 1e-12);
        var moved = SparsityControl.Advance(State(reference: 10, smoothed: 20, anchor: 30, anchorStep: 1, rise: limit), 20, 10, 6, 1, Rate);
        moved.State.Rise.Should().BeApproximately(moved.LogChange, 1e-15, "a measurement that moved resets the rise");
        moved.LogChange.Should().BeApproximately(Rate * Math.Log(2), 1e-12);
    }

    [Fact]
    public void The_anchor_follows_a_tracked_measurement_and_a_moving_one_and_stays_with_a_still_one()
    {
        var tracked = SparsityControl.Advance(State(reference: 10, smoothed: 10.5, anchor: 10.5, anchorStep: 1), 10.5, 10, 5, 0, Rate);
        tracked.State.AnchorStep.Should().Be(5, "within 10% of the target");
        tracked.State.Anchor.Should().BeApproximately(10.5, 1e-12);
        var still = SparsityControl.Advance(State(reference: 10, smoothed: 30, anchor: 30, anchorStep: 1, rise: 0.5), 30, 10, 5, 0, Rate);
        still.State.AnchorStep.Should().Be(1);
        still.State.Anchor.Should().Be(30);
        still.State.Rise.Should().BeApproximately(0.5 + still.LogChange, 1e-15);
        var moving = SparsityControl.Advance(State(reference: 10, smoothed: 30, anchor: 36, anchorStep: 1), 30, 10, 5, 0, Rate);
        moving.State.AnchorStep.Should().Be(5, "more than 10% from the anchor");
        moving.State.Anchor.Should().BeApproximately(30, 1e-12);
    }

    [Fact]
    public void The_reference_walks_up_as_well_and_stops_while_the_model_trails_by_more_than_a_factor_two()
    {
        var up = SparsityControl.Advance(State(reference: 20, smoothed: 20), 20, 100, 2, 0, Rate);
        up.State.Reference.Should().BeApproximately(20 * Math.Exp(0.01), 1e-12);
        var last = SparsityControl.Advance(State(reference: 99.9, smoothed: 99.9), 99.9, 100, 2, 0, Rate);
        last.State.Reference.Should().Be(100, "the last step lands on the target exactly");
        var trailing = SparsityControl.Advance(State(reference: 20, smoothed: 9), 9, 100, 2, 0, Rate);
        trailing.State.Reference.Should().BeApproximately(20, 1e-12);
        var lagDown = SparsityControl.Advance(State(reference: 20, smoothed: 45), 45, 5, 2, 0, Rate);
        lagDown.State.Reference.Should().BeApproximately(20, 1e-12);
    }

    [Fact]
    public void An_explicit_warmup_lands_on_the_target_exactly_at_its_last_step()
    {
        // A target whose exp(ln t) does not round back to t: only the schedule's own end gives it exactly.
        var target = Enumerable.Range(3, 200).Select(i => i / 7.0).First(t => Math.Exp(Math.Log(t)) != t);
        SparsityControl.Scheduled(100, target, 5, 5).Should().Be(target);
        SparsityControl.Scheduled(100, target, 9, 5).Should().Be(target);
        SparsityControl.Scheduled(100, target, 0, 5).Should().BeApproximately(100, 1e-9);
        SparsityControl.Advance(State(reference: 50, smoothed: 50), 50, target, 5, 5, Rate).State.Reference.Should().Be(target);
    }

    [Theory]
    [InlineData(true, 10, 0.99, SparsityBudgetStatus.Collapsed)]
    [InlineData(true, 10, 1, SparsityBudgetStatus.Converging)]
    [InlineData(true, 5, 0.49, SparsityBudgetStatus.Collapsed)]
    [InlineData(true, 5, 0.7, SparsityBudgetStatus.Converging)]
    [InlineData(false, 3, 0.029, SparsityBudgetStatus.Collapsed)]
    [InlineData(false, 3, 0.1, SparsityBudgetStatus.Converging)]
    public void Collapse_is_below_a_tenth_of_an_L0_target_at_most_one_term_and_below_a_hundredth_of_a_FLOPS_target(bool isL0, double target, double smoothed, SparsityBudgetStatus expected) =>
        SparsityControl.Classify(State(target, smoothed), target, isL0, 1, atMinWeight: false, atMaxWeight: false).Should().Be(expected);

    [Fact]
    public void Each_status_rule_holds_at_its_boundary()
    {
        SparsityBudgetStatus Classify(double reference, double smoothed, long step = 1, long anchorStep = 0, bool atMin = false, bool atMax = false, double start = 1000, double rise = 0) =>
            SparsityControl.Classify(State(reference, smoothed, anchorStep: anchorStep, start: start, rise: rise), 10, isL0: true, step, atMin, atMax);

        (11.0 / 10).Should().Be(1.1, "the tolerance's edge is reachable exactly");
        Classify(10, 11).Should().Be(SparsityBudgetStatus.Tracking, "within 10%, edge included");
        Classify(12, 10.5).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is tracking wherever the reference is");
        Classify(10, 11.5).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10 * (1 + 1e-12), 11.5).Should().Be(SparsityBudgetStatus.Converging, "a reference within float rounding of the target has arrived");
        Classify(12, 11.5).Should().Be(SparsityBudgetStatus.Warmup, "the reference is on its way");
        Classify(10, 5, atMin: true, start: 8).Should().Be(SparsityBudgetStatus.Slack, "sparser from the start, with no penalty");
        Classify(10, 5, atMin: true, start: 11).Should().Be(SparsityBudgetStatus.Slack, "a start within 10% of the target is not above it");
        Classify(10, 5, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Collapsed, "driven from above to below the target: dead terms");
        Classify(10, 9.1, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is tracking");
        Classify(10, 9, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Collapsed);
        Classify(10, 4.9, start: 11.5).Should().Be(SparsityBudgetStatus.Converging, "λ is still falling");
        Classify(10, 5).Should().Be(SparsityBudgetStatus.Converging, "sparser with λ above its floor");
        Classify(10, 20, atMax: true).Should().Be(SparsityBudgetStatus.Unreachable);
        Classify(10, 20, step: 201, anchorStep: 1).Should().Be(SparsityBudgetStatus.Unreachable, "200 updates near one level");
        Classify(10, 20, step: 200, anchorStep: 1).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10, 20, rise: Math.Log(20)).Should().Be(SparsityBudgetStatus.Unreachable, "μ at 20× its value at the anchor");
        Classify(10, 20, rise: Math.Log(19.9)).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10, 11.5, step: 500, anchorStep: 1, rise: 9).Should().BeOneOf(SparsityBudgetStatus.Unreachable);
        Classify(10, 10.9, step: 500, anchorStep: 1, rise: 9).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is never stalled");
        Classify(10, 5, step: 401, anchorStep: 1, rise: 9).Should().Be(SparsityBudgetStatus.Converging, "a sparser model is never unreachable");
    }
}
