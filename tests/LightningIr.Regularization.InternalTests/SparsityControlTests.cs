namespace LightningIr.Regularization.InternalTests;

/// <summary>
/// The budget's control law (<see cref="SparsityControl"/>) called directly, at the boundaries of its rules: the
/// smoothing and velocity, the speed asked for and the gate on it, the brake, the fast decrease, the anchor, the windup
/// bound both ways, the explicit warmup and each status rule.
/// </summary>
public sealed class SparsityControlTests
{
    private static readonly double Rate = SparsityControl.DefaultRate;
    private static readonly double Ln2 = Math.Log(2);

    private static SparsityTargetState State(
        double smoothed, double reference = 10, double anchor = 1, long anchorStep = 0, SparsityBudgetStatus status = SparsityBudgetStatus.Converging,
        double start = 1000, double velocity = 0, double rise = 0, long heldSince = -1) =>
        new(start, reference, smoothed, anchor, anchorStep, status, velocity, rise, heldSince);

    /// <summary>A previous state whose velocity, after an update that measures its smoothed level again, is <paramref name="velocity"/>.</summary>
    private static SparsityTargetState Moving(double smoothed, double velocity, double anchor = 1) =>
        State(smoothed, anchor: anchor, velocity: velocity / (1 - SparsityControl.VelocitySmoothing));

    /// <summary>The speed the law asks for at a smoothed level, towards a target of 10.</summary>
    private static double Asked(double smoothed) => Math.Clamp(0.03 * Math.Abs(Math.Log(smoothed / 10)), 0.002, 0.08);

    [Fact]
    public void The_first_advance_starts_everything_at_the_measurement_and_already_moves_lambda()
    {
        var move = SparsityControl.Advance(null, 80, 10, step: 3, warmupSteps: 0, Rate);
        move.State.Start.Should().Be(80);
        move.State.Reference.Should().Be(10, "without a warmup the law steers to the target itself");
        move.State.Smoothed.Should().BeApproximately(80, 1e-9);
        move.State.Anchor.Should().BeApproximately(80, 1e-9);
        move.State.AnchorStep.Should().Be(3);
        move.State.Status.Should().Be(SparsityBudgetStatus.Warmup);
        move.State.Velocity.Should().Be(0);
        move.State.HeldSince.Should().Be(-1, "8× the target is not within 10% of it");
        move.LogChange.Should().BeApproximately(Rate * Ln2, 1e-12, "8× the target is clipped to a factor 2, and a still model is slower than asked");
        move.State.Rise.Should().Be(move.LogChange);
    }

    [Fact]
    public void Later_advances_keep_the_start_carry_the_status_smooth_the_measurement_and_its_velocity()
    {
        var previous = State(50, anchor: 50, anchorStep: 1, status: SparsityBudgetStatus.Tracking, start: 80, velocity: 0.01);
        var move = SparsityControl.Advance(previous, 51, 10, step: 2, warmupSteps: 0, Rate);
        move.State.Start.Should().Be(80, "the start is the first measurement");
        move.State.Status.Should().Be(SparsityBudgetStatus.Tracking, "the status is provisional until Classify");
        var change = 0.1 * Math.Log(51.0 / 50);
        move.State.Smoothed.Should().BeApproximately(Math.Exp(Math.Log(50) + change), 1e-12);
        move.State.Velocity.Should().BeApproximately(0.01 + (0.2 * (change - 0.01)), 1e-15);
    }

    [Fact]
    public void A_target_is_held_from_the_update_its_smoothed_level_enters_ten_percent_until_it_leaves()
    {
        long HeldSince(SparsityTargetState previous, double measured, long step = 7) =>
            SparsityControl.Advance(previous, measured, 10, step, warmupSteps: 0, Rate).State.HeldSince;

        HeldSince(State(10.99), 10.99).Should().Be(7, "just inside the edge, 10% above: inside from this update");
        HeldSince(State(9.1), 9.1).Should().Be(7, "9.1 is within 10% of 10 in ln");
        HeldSince(State(10, heldSince: 3), 10).Should().Be(3, "held since update 3, and still inside");
        HeldSince(State(11.5, heldSince: 3), 11.5).Should().Be(-1, "the level left the band: the hold starts again");
        HeldSince(State(8.9, heldSince: 3), 8.9).Should().Be(-1);
        HeldSince(State(10.9), 30).Should().Be(-1, "one measurement of 30 lifts the smoothed level above 11");
        SparsityControl.Advance(null, 10.5, 10, step: 1, warmupSteps: 0, Rate).State.HeldSince.Should().Be(1, "a first measurement inside starts the hold");
    }

    [Fact]
    public void Tracking_needs_25_held_updates_and_a_target_near_but_not_held_is_neither_slack_nor_unreachable()
    {
        SparsityBudgetStatus Classify(double smoothed, long heldSince, bool atMin = false, bool atMax = false, double reference = 10, double start = 1000) =>
            SparsityControl.Classify(State(smoothed, reference, start: start, heldSince: heldSince), 10, isL0: true, 100, atMin, atMax);

        SparsityControl.Hold.Should().Be(25);
        Classify(10, 75).Should().Be(SparsityBudgetStatus.Tracking, "held 25 updates");
        Classify(10, 76).Should().Be(SparsityBudgetStatus.Converging, "held 24 updates: it may only be passing through");
        Classify(10, -1).Should().Be(SparsityBudgetStatus.Converging, "not held");
        Classify(9.5, -1, atMin: true, start: 8).Should().Be(SparsityBudgetStatus.Converging, "near the target is not slack, whatever λ does");
        Classify(10.5, -1, atMax: true).Should().Be(SparsityBudgetStatus.Converging, "near the target is not unreachable at the largest weight");
        Classify(10.5, -1, reference: 12).Should().Be(SparsityBudgetStatus.Warmup, "an explicit warmup's level is still on its way");
        Classify(20, -1, atMax: true).Should().Be(SparsityBudgetStatus.Unreachable, "off the target, the rules are as before");
        Classify(5, -1, atMin: true, start: 8).Should().Be(SparsityBudgetStatus.Slack);
    }

    [Fact]
    public void The_speed_asked_for_is_three_percent_of_the_distance_between_a_floor_and_a_ceiling()
    {
        // A model at exactly the asked speed towards the target holds λ: the gate finds the speed the law asks for.
        foreach (var smoothed in new[] { 40.0, 100000.0, 10.5, 2.0 })
        {
            var asked = Asked(smoothed);
            var towards = -Math.Sign(smoothed - 10) * asked;
            var move = SparsityControl.Advance(Moving(smoothed, towards), smoothed, 10, 5, 0, Rate);
            move.State.Velocity.Should().BeApproximately(towards, 1e-15);
            move.LogChange.Should().BeApproximately(0, 1e-15, $"at {smoothed} the model moves as fast as asked");
        }

        Asked(100000).Should().Be(SparsityControl.MaxSpeed);
        Asked(10.5).Should().Be(SparsityControl.MinSpeed);
        Asked(40).Should().BeApproximately(0.03 * Math.Log(4), 1e-15);
    }

    [Fact]
    public void The_gate_grows_lambda_while_the_model_is_slower_than_asked_and_brakes_it_when_faster()
    {
        var asked = Asked(40);
        var error = Ln2;
        foreach (var (share, factor) in new[] { (0.0, 1.0), (0.5, 0.5), (-1.0, 1.0), (2.0, -1.0), (3.0, -2.0), (10.0, -2.0) })
        {
            var move = SparsityControl.Advance(Moving(40, -share * asked), 40, 10, 5, 0, Rate);
            move.LogChange.Should().BeApproximately(Rate * error * factor, 1e-12, $"a model at {share} of the asked speed");
        }

        var near = SparsityControl.Advance(Moving(12, 0), 12, 10, 5, 0, Rate);
        near.LogChange.Should().BeApproximately(Rate * Math.Log(1.2), 1e-12, "a small error moves λ by its own size");
    }

    [Fact]
    public void A_model_far_below_its_target_and_not_coming_back_loses_weight_three_times_faster()
    {
        var far = SparsityControl.Advance(Moving(5, 0, anchor: 5), 5, 10, 5, 0, Rate);
        far.LogChange.Should().BeApproximately(Rate * 3 * -Ln2, 1e-12);
        var near = SparsityControl.Advance(Moving(8.5, 0, anchor: 8.5), 8.5, 10, 5, 0, Rate);
        near.LogChange.Should().BeApproximately(Rate * Math.Log(0.85), 1e-12, "15% below is within the plain rate");
        var returning = SparsityControl.Advance(Moving(5, 0.5 * Asked(5), anchor: 5), 5, 10, 5, 0, Rate);
        returning.LogChange.Should().BeApproximately(Rate * 3 * 0.5 * -Ln2, 1e-12, "coming back at half the asked speed");
        var rushing = SparsityControl.Advance(Moving(5, 2 * Asked(5), anchor: 5), 5, 10, 5, 0, Rate);
        rushing.LogChange.Should().BeApproximately(Rate * Ln2, 1e-12, "coming back twice as fast as asked: λ rises a little to brake it");
    }

    [Fact]
    public void The_weight_moves_at_most_eighty_times_either_way_from_its_value_at_the_anchor()
    {
        var limit = SparsityControl.MaxRise;
        var near = SparsityControl.Advance(State(20, anchor: 20, anchorStep: 1, rise: limit - 0.01), 20, 10, 5, 0, Rate);
        near.LogChange.Should().BeApproximately(0.01, 1e-12, "the rise stops at ln 80");
        near.State.Rise.Should().BeApproximately(limit, 1e-12);
        var at = SparsityControl.Advance(near.State, 20, 10, 6, 0, Rate);
        at.LogChange.Should().Be(0, "at the limit the target is stalled");
        var falling = SparsityControl.Advance(State(5, anchor: 5, anchorStep: 1, rise: 0.05 - limit), 5, 10, 5, 0, Rate);
        falling.LogChange.Should().BeApproximately(-0.05, 1e-12, "the fall stops at ln 80 below as well");
        var moved = SparsityControl.Advance(State(20, anchor: 30, anchorStep: 1, rise: limit), 20, 10, 6, 0, Rate);
        moved.State.Rise.Should().BeApproximately(moved.LogChange, 1e-15, "a measurement that moved resets the rise");
        moved.LogChange.Should().BeApproximately(Rate * Ln2, 1e-12);
    }

    [Fact]
    public void A_stalled_target_holds_its_weight_against_growth_but_lets_it_fall()
    {
        var up = SparsityControl.Advance(State(20, anchor: 20, anchorStep: 1), 20, 10, 201, 0, Rate);
        up.LogChange.Should().Be(0, "200 updates without a response, denser than the target");
        var early = SparsityControl.Advance(State(20, anchor: 20, anchorStep: 1), 20, 10, 200, 0, Rate);
        early.LogChange.Should().BeApproximately(Rate * Ln2, 1e-12, "199 updates are not yet a stall");
        var braking = SparsityControl.Advance(Moving(20, -3 * Asked(20), anchor: 20.5), 20, 10, 201, 0, Rate);
        braking.State.AnchorStep.Should().Be(0, "still within 5% of the anchor");
        braking.LogChange.Should().BeApproximately(Rate * Ln2 * -2, 1e-12, "a stalled target's λ may fall");
        var sparser = SparsityControl.Advance(State(5, anchor: 5, anchorStep: 1), 5, 10, 500, 0, Rate);
        sparser.LogChange.Should().BeApproximately(Rate * 3 * -Ln2, 1e-12, "a sparser model is never stalled");
    }

    [Fact]
    public void The_anchor_follows_a_tracked_measurement_and_one_that_moved_five_percent_and_stays_with_a_still_one()
    {
        var tracked = SparsityControl.Advance(State(10.5, anchor: 10.5, anchorStep: 1), 10.5, 10, 5, 0, Rate);
        tracked.State.AnchorStep.Should().Be(5, "within 10% of the target");
        tracked.State.Anchor.Should().BeApproximately(10.5, 1e-12);
        var still = SparsityControl.Advance(State(30, anchor: 31.4, anchorStep: 1, rise: 0.5), 30, 10, 5, 0, Rate);
        still.State.AnchorStep.Should().Be(1, "4.6% from the anchor");
        still.State.Anchor.Should().Be(31.4);
        still.State.Rise.Should().BeApproximately(0.5 + still.LogChange, 1e-15);
        var moving = SparsityControl.Advance(State(30, anchor: 31.6, anchorStep: 1), 30, 10, 5, 0, Rate);
        moving.State.AnchorStep.Should().Be(5, "5.2% from the anchor");
        moving.State.Anchor.Should().BeApproximately(30, 1e-12);
    }

    [Fact]
    public void An_explicit_warmup_steers_to_its_schedule_and_lands_on_the_target_exactly_at_its_last_step()
    {
        // Target 100 over a 1,000-update warmup from 10: at update 300 the schedule asks for 10^1.3 ≈ 20; a model at 25 is
        // denser than its level, so λ grows, though it is sparser than the target.
        var move = SparsityControl.Advance(State(25, anchor: 25, anchorStep: 1, start: 10), 25, 100, 300, 1000, Rate);
        move.State.Reference.Should().BeApproximately(Math.Pow(10, 1.3), 1e-9);
        move.LogChange.Should().BeApproximately(Rate * Math.Log(25 / Math.Pow(10, 1.3)), 1e-9);
        // A target whose exp(ln t) does not round back to t: only the schedule's own end gives it exactly.
        var target = Enumerable.Range(3, 200).Select(i => i / 7.0).First(t => Math.Exp(Math.Log(t)) != t);
        SparsityControl.Scheduled(100, target, 5, 5).Should().Be(target);
        SparsityControl.Scheduled(100, target, 9, 5).Should().Be(target);
        SparsityControl.Scheduled(100, target, 0, 5).Should().BeApproximately(100, 1e-9);
        SparsityControl.Advance(State(50), 50, target, 5, 5, Rate).State.Reference.Should().Be(target);
    }

    [Theory]
    [InlineData(true, 10, 0.99, SparsityBudgetStatus.Collapsed)]
    [InlineData(true, 10, 1, SparsityBudgetStatus.Converging)]
    [InlineData(true, 5, 0.49, SparsityBudgetStatus.Collapsed)]
    [InlineData(true, 5, 0.7, SparsityBudgetStatus.Converging)]
    [InlineData(false, 3, 0.029, SparsityBudgetStatus.Collapsed)]
    [InlineData(false, 3, 0.1, SparsityBudgetStatus.Converging)]
    public void Collapse_is_below_a_tenth_of_an_L0_target_at_most_one_term_and_below_a_hundredth_of_a_FLOPS_target(bool isL0, double target, double smoothed, SparsityBudgetStatus expected) =>
        SparsityControl.Classify(State(smoothed, reference: target), target, isL0, 1, atMinWeight: false, atMaxWeight: false).Should().Be(expected);

    [Fact]
    public void Each_status_rule_holds_at_its_boundary()
    {
        var limit = SparsityControl.MaxRise;
        // A state within 10% of the target is held from its first update, as Advance keeps it (tested above).
        SparsityBudgetStatus Classify(double reference, double smoothed, long step = 30, long anchorStep = 0, bool atMin = false, bool atMax = false, double start = 1000, double rise = 0) =>
            SparsityControl.Classify(
                State(smoothed, reference, anchorStep: anchorStep, start: start, rise: rise, heldSince: Math.Abs(Math.Log(smoothed / 10)) <= Math.Log(1.1) ? 1 : -1),
                10, isL0: true, step, atMin, atMax);

        (11.0 / 10).Should().Be(1.1, "the tolerance's edge is reachable exactly");
        Classify(10, 11).Should().Be(SparsityBudgetStatus.Tracking, "within 10%, edge included");
        Classify(12, 10.5).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is tracking wherever a warmup's level is");
        Classify(10, 11.5).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10 * (1 + 1e-12), 11.5).Should().Be(SparsityBudgetStatus.Converging, "a level within float rounding of the target has arrived");
        Classify(12, 11.5).Should().Be(SparsityBudgetStatus.Warmup, "an explicit warmup's level is on its way");
        Classify(10, 5, atMin: true, start: 8).Should().Be(SparsityBudgetStatus.Slack, "sparser from the start, with no penalty");
        Classify(10, 5, rise: -limit, start: 8).Should().Be(SparsityBudgetStatus.Slack, "λ lowered the whole windup limit counts as its floor");
        Classify(10, 5, rise: 0.001 - limit, start: 8).Should().Be(SparsityBudgetStatus.Converging, "λ still falling");
        Classify(10, 5, atMin: true, start: 11).Should().Be(SparsityBudgetStatus.Slack, "a start within 10% of the target is not above it");
        Classify(10, 5, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Collapsed, "driven from above to below the target: dead terms");
        Classify(10, 5, rise: -limit, start: 11.5).Should().Be(SparsityBudgetStatus.Collapsed, "driven there, and λ lowered as far as the law lowers it");
        Classify(10, 9.1, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is tracking");
        Classify(10, 9, atMin: true, start: 11.5).Should().Be(SparsityBudgetStatus.Collapsed);
        Classify(10, 4.9, start: 11.5).Should().Be(SparsityBudgetStatus.Converging, "λ is still falling");
        Classify(10, 20, atMax: true).Should().Be(SparsityBudgetStatus.Unreachable);
        Classify(10, 20, step: 201, anchorStep: 1).Should().Be(SparsityBudgetStatus.Unreachable, "200 updates without a response");
        Classify(10, 20, step: 200, anchorStep: 1).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10, 20, rise: limit).Should().Be(SparsityBudgetStatus.Unreachable, "λ at 80× its value at the anchor");
        Classify(10, 20, rise: Math.Log(79.9)).Should().Be(SparsityBudgetStatus.Converging);
        Classify(10, 10.9, step: 500, anchorStep: 1, rise: limit).Should().Be(SparsityBudgetStatus.Tracking, "within 10% is never stalled");
        Classify(10, 5, step: 401, anchorStep: 1, rise: limit).Should().Be(SparsityBudgetStatus.Converging, "a sparser model is never unreachable");
    }
}
