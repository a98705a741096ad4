namespace LightningIr.Regularization.Tests;

/// <summary>The weight schedules against Lightning IR's formulas at their boundaries.</summary>
public sealed class ScheduleTests
{
    // delay 10, warmup 20, training 50: boundaries 0, 9, 10, 20 (mid-warmup), 30 (end of warmup), 50, 1000.
    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(9, 0.0)]
    [InlineData(10, 0.0)]
    [InlineData(11, 0.05)]
    [InlineData(20, 0.5)]
    [InlineData(29, 0.95)]
    [InlineData(30, 1.0)]
    [InlineData(50, 1.0)]
    [InlineData(1000, 1.0)]
    public void Constant_with_linear_warmup(long step, double expected)
        => new ConstantSchedulerWithLinearWarmup(new L1Regularization(), 20, 10).ValueAt(step).Should().BeApproximately(expected, 1e-15);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(9, 0.0)]
    [InlineData(10, 0.0)]
    [InlineData(11, 0.0025)]
    [InlineData(20, 0.25)]
    [InlineData(29, 0.9025)]
    [InlineData(30, 1.0)]
    [InlineData(50, 1.0)]
    [InlineData(1000, 1.0)]
    public void Constant_with_quadratic_warmup(long step, double expected)
        => new ConstantSchedulerWithQuadraticWarmup(new L1Regularization(), 20, 10).ValueAt(step).Should().BeApproximately(expected, 1e-15);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(9, 0.0)]
    [InlineData(10, 0.0)]
    [InlineData(20, 0.5)]
    [InlineData(30, 1.0)]
    [InlineData(40, 0.6)] // 1 − (1 − 0.2) / 20 · 10
    [InlineData(50, 0.2)]
    [InlineData(51, 0.2)]
    [InlineData(1000, 0.2)]
    public void Linear_with_linear_warmup_decays_to_the_final_value_and_stays(long step, double expected)
        => new LinearSchedulerWithLinearWarmup(new L1Regularization(), 20, 50, finalValue: 0.2, numDelaySteps: 10)
            .ValueAt(step).Should().BeApproximately(expected, 1e-12);

    [Fact]
    public void Quadratic_warmup_without_delay_is_SPLADEs_schedule()
    {
        var schedule = new ConstantSchedulerWithQuadraticWarmup(new FlopsRegularization(), numWarmupSteps: 1000);
        for (long t = 1; t <= 1200; t++)
        {
            var expected = t < 1000 ? Math.Pow(t / 1000.0, 2) : 1.0;
            schedule.ValueAt(t).Should().BeApproximately(expected, 1e-15, $"step {t}");
        }
    }

    [Fact]
    public void Step_scales_both_base_weights_and_Restore_puts_them_back()
    {
        var loss = new FlopsRegularization(3e-4, 1e-4);
        var schedule = new ConstantSchedulerWithQuadraticWarmup(loss, 100);

        schedule.Step(50);
        loss.QueryWeight.Should().BeApproximately(3e-4 * 0.25, 1e-18);
        loss.DocWeight.Should().BeApproximately(1e-4 * 0.25, 1e-18);

        schedule.Step(10); // steps may be revisited: the base weights are never overwritten
        loss.QueryWeight.Should().BeApproximately(3e-4 * 0.01, 1e-18);

        schedule.Restore();
        loss.QueryWeight.Should().Be(3e-4);
        loss.DocWeight.Should().Be(1e-4);
        schedule.BaseQueryWeight.Should().Be(3e-4);
    }

    [Fact]
    public void Scheduled_weights_change_the_loss()
    {
        using var scope = NewDisposeScope();
        var loss = new L1Regularization(1, 1);
        var schedule = new ConstantSchedulerWithLinearWarmup(loss, 4);
        var output = new BiEncoderOutput(QueryEmbeddings: new(ones(2, 3)), DocEmbeddings: new(ones(2, 3)));

        schedule.Step(1);
        loss.ComputeLoss(output).item<float>().Should().BeApproximately(1.5f, 1e-6f); // (3 + 3) · 1/4
        schedule.Step(4);
        loss.ComputeLoss(output).item<float>().Should().BeApproximately(6f, 1e-6f);
    }

    [Fact]
    public void Zero_warmup_jumps_to_one_after_the_delay()
    {
        var schedule = new ConstantSchedulerWithLinearWarmup(new L2Regularization(), 0, 5);
        schedule.ValueAt(4).Should().Be(0);
        schedule.ValueAt(5).Should().Be(1);
    }

    [Fact]
    public void Warmup_ratio_follows_sentence_transformers()
    {
        var schedule = ConstantSchedulerWithQuadraticWarmup.FromWarmupRatio(new FlopsRegularization(), 3000);
        schedule.NumWarmupSteps.Should().Be(1000);
        schedule.NumDelaySteps.Should().Be(0);
        ConstantSchedulerWithLinearWarmup.FromWarmupRatio(new L1Regularization(), 100, 0.25).NumWarmupSteps.Should().Be(25);
        var bad = () => ConstantSchedulerWithLinearWarmup.FromWarmupRatio(new L1Regularization(), 100, 1.5);
        bad.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("warmupRatio");
        var noSteps = () => ConstantSchedulerWithQuadraticWarmup.FromWarmupRatio(new L1Regularization(), 0);
        noSteps.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numTrainingSteps");
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var loss = new L1Regularization();
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(null!, 10))
            .Should().Throw<ArgumentNullException>().WithParameterName("regularizer");
        FluentActions.Invoking(() => new ConstantSchedulerWithQuadraticWarmup(loss, -1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numWarmupSteps");
        FluentActions.Invoking(() => new ConstantSchedulerWithQuadraticWarmup(loss, 10, -1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numDelaySteps");
        FluentActions.Invoking(() => new LinearSchedulerWithLinearWarmup(loss, 10, 15, numDelaySteps: 5))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numTrainingSteps").WithMessage("*longer than the delay plus the warmup*");
        FluentActions.Invoking(() => new LinearSchedulerWithLinearWarmup(loss, 10, 100, finalValue: 1.5))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("finalValue");
        FluentActions.Invoking(() => new LinearSchedulerWithLinearWarmup(loss, 10, 100, finalValue: double.NaN))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("finalValue");
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(loss, 10).ValueAt(-1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("currentStep");
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(loss, 10).Step(-1))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("step");
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(loss, 10, sides: 0))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sides");
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(loss, 10, sides: (RegularizationSide)4))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sides");
    }

    [Fact]
    public void Each_side_can_have_its_own_schedule()
    {
        var flops = new FlopsRegularization(queryWeight: 0.4, docWeight: 0.8);
        var query = new ConstantSchedulerWithLinearWarmup(flops, 10, sides: RegularizationSide.Query);
        var doc = new ConstantSchedulerWithQuadraticWarmup(flops, 10, numDelaySteps: 5, sides: RegularizationSide.Doc);
        query.Sides.Should().Be(RegularizationSide.Query);

        query.Step(5);
        doc.Step(10);
        flops.QueryWeight.Should().Be(0.4 * 0.5);
        flops.DocWeight.Should().Be(0.8 * 0.25);

        query.Restore();
        flops.QueryWeight.Should().Be(0.4);
        flops.DocWeight.Should().Be(0.8 * 0.25, "restoring the query schedule leaves the document weight to its own schedule");
        doc.Restore();
        flops.DocWeight.Should().Be(0.8);
    }

    [Fact]
    public void The_decaying_schedule_takes_a_warmup_ratio_too()
    {
        var l1 = new L1Regularization(1, 1);
        var schedule = LinearSchedulerWithLinearWarmup.FromWarmupRatio(l1, 300, 0.1, finalValue: 0.2, sides: RegularizationSide.Doc);
        schedule.NumWarmupSteps.Should().Be(30);
        schedule.NumTrainingSteps.Should().Be(300);
        schedule.FinalValue.Should().Be(0.2);
        schedule.Step(300);
        l1.DocWeight.Should().BeApproximately(0.2, 1e-15);
        l1.QueryWeight.Should().Be(1);
        FluentActions.Invoking(() => LinearSchedulerWithLinearWarmup.FromWarmupRatio(l1, 10, 1.0))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numTrainingSteps");
    }
}
