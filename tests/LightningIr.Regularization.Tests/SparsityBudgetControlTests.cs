namespace LightningIr.Regularization.Tests;

/// <summary>The budget's control law, statuses and refusals on hand-made batches (the closed loop is in <see cref="SparsityBudgetMatrixTests"/>).</summary>
public sealed class SparsityBudgetControlTests
{
    private static BiEncoderOutput Batch(int queryL0, int docL0) =>
        TestLosses.Output(SparsityBudgetTests.WithNonZeros(queryL0, queryL0), SparsityBudgetTests.WithNonZeros(docL0, docL0));

    [Fact]
    public void The_first_update_already_moves_lambda_towards_the_target_and_the_level_steered_to_is_the_target()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, docL0: 10);
        budget.Update(Batch(5, 80));
        flops.DocWeight.Should().BeApproximately(1e-3 * Math.Pow(2, 0.2), 1e-15, "8× denser than the target: the error is clipped to ln 2, times the rate 0.2");
        budget.CurrentDocL0Target.Should().Be(10);
        budget.Status.Should().Be(SparsityBudgetStatus.Converging);
        budget.State.DocL0!.Start.Should().Be(80);
        budget.State.DocL0!.Velocity.Should().Be(0);
        flops.QueryWeight.Should().Be(1e-3, "λq has no target");
    }

    [Fact]
    public void A_model_far_below_its_target_loses_weight_three_times_faster_than_a_dense_one_gains_it()
    {
        using var scope = NewDisposeScope();
        var up = new FlopsRegularization(1, 1);
        var upBudget = new SparsityBudget(up, docL0: 10);
        var down = new FlopsRegularization(1, 1);
        var downBudget = new SparsityBudget(down, docL0: 10);
        upBudget.Update(Batch(5, 15));
        downBudget.Update(Batch(5, 7));
        up.DocWeight.Should().BeApproximately(Math.Pow(1.5, 0.2), 1e-12);
        down.DocWeight.Should().BeApproximately(Math.Pow(0.7, 3 * 0.2), 1e-12, "30% below the target: three times the rate");
        upBudget.State.DocWeight.Should().Be(up.DocWeight);
    }

    [Fact]
    public void Statuses_say_collapsed_tracking_slack_and_unreachable_and_the_worse_side_wins()
    {
        using var scope = NewDisposeScope();
        var collapsed = new SparsityBudget(new FlopsRegularization(1, 1), docL0: 10);
        collapsed.Update(Batch(5, 0));
        collapsed.Status.Should().Be(SparsityBudgetStatus.Collapsed);

        var tracking = new SparsityBudget(new FlopsRegularization(1, 1), docL0: 10);
        for (var i = 1; i <= 26; i++)
        {
            tracking.Update(Batch(5, 10));
            tracking.Status.Should().Be(i <= 25 ? SparsityBudgetStatus.Converging : SparsityBudgetStatus.Tracking, $"held since update 1, read at update {i}");
        }

        var slack = new SparsityBudget(new FlopsRegularization(1, 1), queryL0: 50, docL0: 10, minWeight: 1e-3);
        for (var i = 0; i < 300; i++)
        {
            slack.Update(Batch(5, 10));
        }

        slack.QueryStatus.Should().Be(SparsityBudgetStatus.Slack);
        slack.DocStatus.Should().Be(SparsityBudgetStatus.Tracking);
        slack.Status.Should().Be(SparsityBudgetStatus.Slack, "the worse of the two");
        slack.Regularizer.QueryWeight.Should().BeApproximately(1.0 / 80, 1e-15, "lowered 80× without a response, as far as the law lowers it");

    }

    [Fact]
    public void An_unreachable_target_winds_lambda_up_at_most_eighty_times_reads_unreachable_within_200_updates_and_resumes_when_the_measurement_moves()
    {
        using var scope = NewDisposeScope();
        var stuck = new FlopsRegularization(1e-3, 1e-3);
        var unreachable = new SparsityBudget(stuck, docL0: 10);
        var statuses = new List<SparsityBudgetStatus>();
        var weights = new List<double>();
        for (var i = 0; i < 2000; i++)
        {
            unreachable.Update(Batch(5, 60));  // the embeddings do not depend on λ
            statuses.Add(unreachable.Status);
            weights.Add(stuck.DocWeight);
        }

        statuses.IndexOf(SparsityBudgetStatus.Unreachable).Should().BeInRange(1, 199);
        statuses.Skip(200).Should().OnlyContain(s => s == SparsityBudgetStatus.Unreachable);
        weights.Max().Should().BeLessThan(1e-1, "λ stays within 100× of the weight at which the measurement last moved");
        weights.Max().Should().BeApproximately(1e-3 * 80, 1e-12, "λ rises to its limit, 80× its value at the anchor, and stays");
        weights.IndexOf(weights.Max()).Should().BeLessThan(40, "at ln 2 · 0.2 per update the limit is 32 updates away");
        stuck.DocWeight.Should().Be(weights.Max());

        var frozen = stuck.DocWeight;
        for (var i = 0; i < 5; i++)
        {
            unreachable.Update(Batch(5, 30));
        }

        unreachable.Status.Should().NotBe(SparsityBudgetStatus.Unreachable, "the measurement moved again");
        unreachable.State.DocL0!.Rise.Should().BeLessThan(Math.Log(2), "the windup is counted afresh from the new anchor");
        for (var i = 0; i < 60; i++)
        {
            unreachable.Update(Batch(5, 30));
        }

        stuck.DocWeight.Should().BeGreaterThan(frozen, "growth resumes once the measurement has moved");
    }

    [Fact]
    public void Refusals_change_nothing_nan_embeddings_other_targets_and_other_states()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 2e-3);
        var budget = new SparsityBudget(flops, docL0: 10);
        budget.Update(Batch(5, 40));
        var before = budget.State;
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var docs = SparsityBudgetTests.WithNonZeros(20, 20);
            docs[1, 3] = tensor(bad);
            FluentActions.Invoking(() => budget.Update(TestLosses.Output(ones(2, 100), docs)))
                .Should().Throw<ArgumentException>().WithMessage("The measured embeddings hold NaN or infinite entries*");
        }

        FluentActions.Invoking(() => budget.Update(new SparsityBudget(flops, docL0: 20).Measure(Batch(5, 40))))
            .Should().Throw<ArgumentException>().WithMessage("The measurement was made by a budget with other targets (queryL0 none, docL0 20, flops none)*");
        var other = new SparsityBudget(new FlopsRegularization(), docL0: 10, updateRate: 0.3);
        FluentActions.Invoking(() => other.LoadState(budget.State))
            .Should().Throw<ArgumentException>().WithMessage("*UpdateRate 0.2 in the state, 0.3 here*");
        FluentActions.Invoking(() => new SparsityBudget(new FlopsRegularization(), queryL0: 10).LoadState(budget.State))
            .Should().Throw<ArgumentException>().WithMessage("*QueryL0 none in the state, 10 here; DocL0 10 in the state, none here*");
        FluentActions.Invoking(() => budget.LoadState(budget.State with { DocL0 = budget.State.DocL0! with { Reference = double.NaN } }))
            .Should().Throw<ArgumentException>().WithMessage("*is not one a budget can be in*");
        FluentActions.Invoking(() => budget.LoadState(budget.State with { DocL0 = budget.State.DocL0! with { AnchorStep = 5 } }))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => budget.LoadState(budget.State with { QueryL0 = budget.State.DocL0 }))
            .Should().Throw<ArgumentException>("a controller for a target the budget does not have");
        budget.State.Should().Be(before);
        flops.DocWeight.Should().Be(before.DocWeight);
    }

    [Fact]
    public void A_side_with_every_vector_masked_out_leaves_its_weight_and_controller_as_they_are()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3) { UseScoringMask = true };
        var budget = new SparsityBudget(flops, queryL0: 3, docL0: 10);
        budget.Update(Batch(5, 40));
        budget.Update(Batch(5, 40));
        var doc = budget.State.DocL0;
        var before = budget.State.DocWeight;
        var weight = flops.DocWeight;
        var output = TestLosses.Output(SparsityBudgetTests.WithNonZeros(5, 5), SparsityBudgetTests.WithNonZeros(40, 40), docMask: zeros(2, ScalarType.Bool));
        budget.Update(output);
        budget.State.DocL0.Should().Be(doc);
        budget.State.DocWeight.Should().Be(before);
        flops.DocWeight.Should().Be(weight);
        budget.MeasuredDocL0.Should().BeNull();
        budget.DocStatus.Should().NotBe(SparsityBudgetStatus.Collapsed);
        budget.MeasuredQueryL0.Should().Be(5);
        budget.Step.Should().Be(3);
    }

    [Fact]
    public void Updated_before_the_loss_the_loss_reads_this_batchs_weight_and_after_the_step_the_next_batchs()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, docL0: 10);
        var output = Batch(5, 40);
        budget.Update(output);
        budget.Update(output);
        var loss = flops.ComputeLoss(output).item<float>();
        var expected = new FlopsRegularization(1e-3, budget.State.DocWeight).ComputeLoss(output).item<float>();
        loss.Should().Be(expected, "the loss of the batch reads the weight its update set");
        var weightOfThisBatch = flops.DocWeight;
        budget.Update(Batch(5, 60));   // after optimizer.step(): measures the same batch again, or the next one
        flops.DocWeight.Should().NotBe(weightOfThisBatch, "called after the step, the update only serves the next batch's loss");
    }

    [Fact]
    public void Before_the_first_update_the_levels_are_the_stated_targets_and_statuses_exist_only_for_targeted_sides()
    {
        using var scope = NewDisposeScope();
        var flops = new SparsityBudget(new FlopsRegularization(), flops: 3);
        flops.CurrentFlopsTarget.Should().Be(3);
        flops.QueryStatus.Should().Be(SparsityBudgetStatus.Warmup);
        flops.DocStatus.Should().Be(SparsityBudgetStatus.Warmup);
        var doc = new SparsityBudget(new FlopsRegularization(), docL0: 7);
        doc.CurrentDocL0Target.Should().Be(7);
        doc.CurrentQueryL0Target.Should().BeNull();
        doc.QueryStatus.Should().BeNull();
        var query = new SparsityBudget(new FlopsRegularization(), queryL0: 6);
        query.CurrentQueryL0Target.Should().Be(6);
        query.DocStatus.Should().BeNull();
        query.Update(Batch(0, 5));
        query.QueryStatus.Should().Be(SparsityBudgetStatus.Collapsed);
    }

    [Fact]
    public void A_state_of_a_budget_with_any_other_option_is_refused_by_name()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), flops: 3);
        var state = budget.State;
        FluentActions.Invoking(() => budget.LoadState(state with { Settings = null! })).Should().Throw<ArgumentNullException>();
        foreach (var (settings, name) in new[]
        {
            (state.Settings with { Flops = 4 }, "Flops 4 in the state, 3 here"),
            (state.Settings with { WarmupSteps = 9 }, "WarmupSteps 9 in the state, 0 here"),
            (state.Settings with { MinWeight = 1e-9 }, "MinWeight 1E-09 in the state, 1E-10 here"),
            (state.Settings with { MaxWeight = 1e9 }, "MaxWeight 1000000000 in the state, 10000000000 here"),
        })
        {
            FluentActions.Invoking(() => budget.LoadState(state with { Settings = settings })).Should().Throw<ArgumentException>().WithMessage($"*({name})*");
        }

        budget.Update(Batch(20, 20));
        budget.LoadState(budget.State with { Step = 0, Flops = budget.State.Flops! with { AnchorStep = 0 } });
        budget.Step.Should().Be(0, "step 0 and anchor 0 are a state a budget can be in");
    }

    [Fact]
    public void The_current_targets_are_the_stated_ones_without_a_warmup_and_the_schedules_level_with_one()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), flops: 1);
        budget.Update(Batch(20, 20));
        budget.CurrentFlopsTarget.Should().Be(1);
        var sides = new SparsityBudget(new FlopsRegularization(), queryL0: 2, docL0: 3);
        sides.Update(Batch(20, 30));
        sides.CurrentQueryL0Target.Should().Be(2);
        sides.CurrentDocL0Target.Should().Be(3);
        var warm = new SparsityBudget(new FlopsRegularization(), docL0: 3, warmupSteps: 10);
        warm.Update(Batch(20, 30));
        warm.CurrentDocL0Target.Should().BeApproximately(Math.Exp((0.9 * Math.Log(30)) + (0.1 * Math.Log(3))), 1e-9, "a tenth of the way from 30 to 3");
        warm.Status.Should().Be(SparsityBudgetStatus.Warmup);
        var warmQuery = new SparsityBudget(new FlopsRegularization(), queryL0: 2, warmupSteps: 10);
        warmQuery.Update(Batch(20, 30));
        warmQuery.CurrentQueryL0Target.Should().BeApproximately(Math.Exp((0.9 * Math.Log(20)) + (0.1 * Math.Log(2))), 1e-9);
        var warmFlops = new SparsityBudget(new FlopsRegularization(), flops: 1, warmupSteps: 10);
        warmFlops.Update(Batch(20, 20));
        warmFlops.CurrentFlopsTarget.Should().Be(warmFlops.State.Flops!.Reference).And.BeGreaterThan(1, "a tenth of the way from the first measurement");
    }

    [Fact]
    public void A_query_side_with_every_vector_masked_out_leaves_its_weight_and_controller_as_they_are()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3) { UseScoringMask = true };
        var budget = new SparsityBudget(flops, queryL0: 3);
        budget.Update(Batch(20, 40));
        budget.Update(Batch(20, 40));
        var before = budget.State;
        budget.Update(TestLosses.Output(SparsityBudgetTests.WithNonZeros(20, 20), SparsityBudgetTests.WithNonZeros(40, 40), queryMask: zeros(2, ScalarType.Bool)));
        budget.State.QueryL0.Should().Be(before.QueryL0);
        budget.State.QueryWeight.Should().Be(before.QueryWeight);
        flops.QueryWeight.Should().Be(before.QueryWeight);
        budget.MeasuredQueryL0.Should().BeNull();
    }

    [Fact]
    public void The_weights_start_from_the_regularizers_at_the_first_update_and_then_move_from_the_budgets_own()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, queryL0: 5);
        flops.QueryWeight = 4e-3;   // a schedule ran between the budget's creation and its first update
        budget.Update(Batch(20, 20));
        flops.QueryWeight.Should().BeApproximately(4e-3 * Math.Pow(2, 0.2), 1e-15, "the budget took over the schedule's weight");
        var first = flops.QueryWeight;
        budget.Update(Batch(20, 20));
        Math.Log(flops.QueryWeight / first).Should().BeInRange(0, 0.2 * Math.Log(2) + 1e-12, "one update moves ln λ by at most rate · ln 2");
    }

    [Fact]
    public void A_measurement_of_a_budget_with_another_query_target_is_refused()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), queryL0: 10);
        FluentActions.Invoking(() => budget.Update(new SparsityBudget(new FlopsRegularization(), queryL0: 20).Measure(Batch(5, 5))))
            .Should().Throw<ArgumentException>().WithMessage("*(queryL0 20, docL0 none, flops none), but this budget has queryL0 10, docL0 none, flops none*");
        budget.Update(new SparsityBudget(new FlopsRegularization(), queryL0: 10).Measure(Batch(5, 5)));
        budget.Step.Should().Be(1, "the same targets measure alike");
    }

    [Fact]
    public void Bounds_a_side_does_not_target_do_not_make_the_other_slack_or_unreachable()
    {
        using var scope = NewDisposeScope();
        // λq far above the bounds and untargeted: λd's status reads λd alone.
        var atMax = new SparsityBudget(new FlopsRegularization(1, 1e-3), docL0: 10, maxWeight: 1e-2);
        atMax.Update(Batch(5, 20));
        atMax.Status.Should().Be(SparsityBudgetStatus.Converging, "denser than the target, but λd is below its bound");
        var docFloor = new SparsityBudget(new FlopsRegularization(1, 1e-3), docL0: 50, minWeight: 1e-3);
        docFloor.Update(Batch(5, 5));
        docFloor.Update(Batch(5, 5));
        docFloor.Status.Should().Be(SparsityBudgetStatus.Slack, "λd sits at its floor, whatever λq is");
        var atMin = new SparsityBudget(new FlopsRegularization(1e-12, 1), docL0: 10, minWeight: 1e-10);
        atMin.Update(Batch(5, 5));
        atMin.Status.Should().Be(SparsityBudgetStatus.Converging);
        // λd at its bound: a lagging model is unreachable at once, a sparser one slack.
        var capped = new SparsityBudget(new FlopsRegularization(1e-3, 1e-3), docL0: 10, maxWeight: 1e-3);
        capped.Update(Batch(5, 40));
        capped.Update(Batch(5, 40));
        capped.State.DocWeight.Should().Be(1e-3);
        capped.Status.Should().Be(SparsityBudgetStatus.Unreachable);
        var queryCapped = new SparsityBudget(new FlopsRegularization(1e-3, 1e-3), queryL0: 10, maxWeight: 1e-3);
        queryCapped.Update(Batch(40, 5));
        queryCapped.Status.Should().Be(SparsityBudgetStatus.Unreachable, "λq starts at its bound");
        queryCapped.Update(Batch(40, 5));
        queryCapped.State.QueryWeight.Should().Be(1e-3);
        queryCapped.Status.Should().Be(SparsityBudgetStatus.Unreachable);
        var queryBelow = new SparsityBudget(new FlopsRegularization(1e-4, 1e-3), queryL0: 10, maxWeight: 1e-3);
        queryBelow.Update(Batch(40, 5));
        queryBelow.Status.Should().Be(SparsityBudgetStatus.Converging, "λq below its bound");
        var floor = new SparsityBudget(new FlopsRegularization(1e-3, 1e-3), flops: 50, minWeight: 1e-3);
        floor.Update(Batch(5, 5));
        floor.Update(Batch(5, 5));
        floor.Status.Should().Be(SparsityBudgetStatus.Slack, "both multipliers sit at the floor");
    }

    [Fact]
    public void Half_a_term_per_document_is_a_collapse_of_an_L0_target_but_a_FLOPS_target_reads_its_own_threshold()
    {
        using var scope = NewDisposeScope();
        var l0 = new SparsityBudget(new FlopsRegularization(), docL0: 10);
        l0.Update(TestLosses.Output(SparsityBudgetTests.WithNonZeros(5, 5), SparsityBudgetTests.WithNonZeros(1, 0)));
        l0.Status.Should().Be(SparsityBudgetStatus.Collapsed);
        var flops = new SparsityBudget(new FlopsRegularization(), flops: 3);
        flops.Update(TestLosses.Output(SparsityBudgetTests.WithNonZeros(5, 5), SparsityBudgetTests.WithNonZeros(1, 0)));
        flops.MeasuredFlops.Should().BeInRange(0.03, 0.6);
        flops.Status.Should().Be(SparsityBudgetStatus.Converging, "above a hundredth of the FLOPS target");
    }

    [Fact]
    public void States_with_zero_weights_load_and_levels_must_be_positive()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), queryL0: 3, docL0: 10);
        budget.Update(Batch(5, 40));
        budget.LoadState(budget.State with { QueryWeight = 0 });
        budget.Regularizer.QueryWeight.Should().Be(0);
        foreach (var level in new[] { 0.0, -1.0 })
        {
            FluentActions.Invoking(() => budget.LoadState(budget.State with { DocL0 = budget.State.DocL0! with { Smoothed = level } }))
                .Should().Throw<ArgumentException>().WithMessage("*is not one a budget can be in*");
        }

        foreach (var heldSince in new[] { -2L, budget.Step + 1 })
        {
            FluentActions.Invoking(() => budget.LoadState(budget.State with { DocL0 = budget.State.DocL0! with { HeldSince = heldSince } }))
                .Should().Throw<ArgumentException>().WithMessage("*held-since steps within range*");
        }

        budget.LoadState(budget.State with { DocL0 = budget.State.DocL0! with { HeldSince = budget.Step } });
        budget.State.DocL0!.HeldSince.Should().Be(budget.Step, "held since the last update: in range");
    }

    [Fact]
    public void The_finiteness_witness_refuses_non_finite_queries_and_half_precision_and_accepts_the_largest_finite_values()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), queryL0: 3, docL0: 10);
        var queries = SparsityBudgetTests.WithNonZeros(5, 5);
        queries[0, 0] = tensor(float.NaN);
        FluentActions.Invoking(() => budget.Update(TestLosses.Output(queries, SparsityBudgetTests.WithNonZeros(20, 20))))
            .Should().Throw<ArgumentException>().WithMessage("The measured embeddings hold NaN or infinite entries*");
        var half = SparsityBudgetTests.WithNonZeros(20, 20).to(ScalarType.Float16);
        half[1, 2] = tensor(float.PositiveInfinity, ScalarType.Float16);
        FluentActions.Invoking(() => budget.Update(TestLosses.Output(SparsityBudgetTests.WithNonZeros(5, 5).to(ScalarType.Float16), half)))
            .Should().Throw<ArgumentException>().WithMessage("The measured embeddings hold NaN or infinite entries*");
        budget.Step.Should().Be(0);
        var largest = full(2, 100, 65504f).to(ScalarType.Float16);
        var lowest = largest.neg();
        budget.Update(TestLosses.Output(largest, lowest));
        budget.MeasuredDocL0.Should().Be(100, "the largest and the lowest finite half values, side by side, are finite");
    }
}
