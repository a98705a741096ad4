using System.Text.Json;

namespace LightningIr.Regularization.Tests;

/// <summary>The budget's update law, its measurements, its refusals, split batches and processes, checkpoints and leaks.</summary>
public sealed class SparsityBudgetTests
{
    private const int Length = 100;

    /// <summary>Vectors of <see cref="Length"/> terms, row i with exactly <c>nonZeros[i]</c> leading non-zero entries.</summary>
    internal static Tensor WithNonZeros(params int[] nonZeros)
    {
        var x = zeros(nonZeros.Length, Length);
        for (var i = 0; i < nonZeros.Length; i++)
        {
            if (nonZeros[i] > 0)
            {
                x[i, ..nonZeros[i]] = rand(nonZeros[i]).add(0.1);
            }
        }

        return x;
    }

    /// <summary>The packed counts, as an all-reduce sees them.</summary>
    private static double[] Packed(SparsityMeasurement measurement)
    {
        double[] values = [];
        using var scope = NewDisposeScope();
        measurement.AllReduce(t =>
        {
            values = t.data<double>().ToArray();
            return t;
        });
        return values;
    }

    private static BiEncoderOutput Output(Tensor query, Tensor doc, Tensor? queryMask = null, Tensor? docMask = null)
        => TestLosses.Output(query, doc, queryMask, docMask);

    private static BiEncoderOutput Batch(int queryL0, int docL0) => Output(WithNonZeros(queryL0, queryL0), WithNonZeros(docL0, docL0, docL0));

    [Fact]
    public void The_weights_stay_within_their_bounds()
    {
        using var scope = NewDisposeScope();
        var l2 = new L2Regularization(1e-2, 1e-2);
        var budget = new SparsityBudget(l2, queryL0: 5, docL0: 5, updateRate: 1, minWeight: 1e-3, maxWeight: 2e-2);
        for (var i = 0; i < 100; i++)
        {
            budget.Update(Batch(90, 90));
        }

        l2.QueryWeight.Should().Be(2e-2);
        budget.State.DocWeight.Should().Be(2e-2);
        for (var i = 0; i < 60; i++)
        {
            budget.Update(Batch(1, 1));
        }

        l2.DocWeight.Should().Be(1e-3);
        budget.State.QueryWeight.Should().Be(1e-3);
        budget.MinWeight.Should().Be(1e-3);
        budget.MaxWeight.Should().Be(2e-2);
    }

    [Fact]
    public void The_update_does_not_depend_on_the_scale_of_the_initial_weight()
    {
        using var scope = NewDisposeScope();
        var small = new FlopsRegularization(0, 1e-3);
        var large = new FlopsRegularization(0, 1e-1);
        var smallBudget = new SparsityBudget(small, docL0: 12);
        var largeBudget = new SparsityBudget(large, docL0: 12);
        foreach (var l0 in new[] { 60, 30, 12, 8, 15, 3, 40 })
        {
            var batch = Batch(1, l0);
            smallBudget.Update(batch);
            largeBudget.Update(batch);
            (large.DocWeight / small.DocWeight).Should().BeApproximately(100, 1e-9);
        }
    }

    [Fact]
    public void It_reads_the_batch_as_the_loss_does_through_ProcessEmbeddings_and_masks()
    {
        using var scope = NewDisposeScope();
        var doc = WithNonZeros(10, 30, 50, 70);
        var mask = tensor(new[] { true, true, false, false });
        var output = Output(WithNonZeros(4, 8), doc, docMask: mask);

        var plain = new SparsityBudget(new L1Regularization(), queryL0: 10, docL0: 10);
        plain.Update(output);
        plain.MeasuredDocL0.Should().Be(SparsityMetrics.L0(doc), "without UseScoringMask the mask is ignored, as by the loss");
        plain.MeasuredQueryL0.Should().Be(6);

        var masked = new SparsityBudget(new L1Regularization { UseScoringMask = true }, docL0: 10);
        masked.Update(output);
        masked.MeasuredDocL0.Should().Be(20, "only the real vectors count");

        var maskedFlops = new SparsityBudget(new L1Regularization { UseScoringMask = true }, flops: 1);
        maskedFlops.Update(output);
        maskedFlops.MeasuredFlops.Should().BeApproximately(SparsityMetrics.Flops(WithNonZeros(4, 8), doc[..2]), 1e-12);

        var firstHalf = new SparsityBudget(new FirstTermsOnly(), docL0: 10);
        firstHalf.Update(output);
        firstHalf.MeasuredDocL0.Should().Be(SparsityMetrics.L0(doc[.., ..25]));
    }

    [Fact]
    public void Micro_batches_give_the_whole_batchs_weights_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var whole = new FlopsRegularization(1e-3, 1e-3);
        var split = new FlopsRegularization(1e-3, 1e-3);
        var wholeBudget = new SparsityBudget(whole, queryL0: 7, docL0: 20);
        var splitBudget = new SparsityBudget(split, queryL0: 7, docL0: 20);
        var generator = new Generator(5);
        for (var step = 0; step < 30; step++)
        {
            var query = rand([12, 1, Length], generator: generator).sub(0.8).relu();
            var doc = rand([24, 1, Length], generator: generator).sub(0.7 + (0.01 * step)).relu();
            wholeBudget.Update(Output(query, doc));
            var parts = query.chunk(3).Zip(doc.chunk(3), (q, d) => splitBudget.Measure(Output(q, d))).ToList();
            splitBudget.Update(SparsityMeasurement.Sum(parts));
            split.QueryWeight.Should().Be(whole.QueryWeight);
            split.DocWeight.Should().Be(whole.DocWeight);
        }

        splitBudget.State.Should().Be(wholeBudget.State);
    }

    [Fact]
    public void Simulated_ranks_set_identical_weights_equal_to_one_process()
    {
        using var scope = NewDisposeScope();
        const int ranks = 4;
        var regularizers = Enumerable.Range(0, ranks).Select(_ => new FlopsRegularization(1e-3, 1e-3)).ToArray();
        var budgets = regularizers.Select(r => new SparsityBudget(r, flops: 2)).ToArray();
        var single = new FlopsRegularization(1e-3, 1e-3);
        var singleBudget = new SparsityBudget(single, flops: 2);
        var generator = new Generator(9);
        for (var step = 0; step < 20; step++)
        {
            var query = rand([8, Length], generator: generator).sub(0.85).relu();
            var doc = rand([16, Length], generator: generator).sub(0.8).relu();
            singleBudget.Update(Output(query, doc));
            var local = query.chunk(ranks).Zip(doc.chunk(ranks), (q, d) => (q, d)).Select((p, r) => budgets[r].Measure(Output(p.q, p.d))).ToArray();
            // Every rank's collective returns the sum over all ranks, as MPI's Allreduce does.
            var sum = Packed(local[0]);
            foreach (var measurement in local.Skip(1))
            {
                sum = sum.Zip(Packed(measurement), (a, b) => a + b).ToArray();
            }

            for (var r = 0; r < ranks; r++)
            {
                budgets[r].Update(local[r].AllReduce(_ => tensor(sum, ScalarType.Float64)));
            }

            foreach (var regularizer in regularizers)
            {
                regularizer.QueryWeight.Should().Be(single.QueryWeight);
                regularizer.DocWeight.Should().Be(single.DocWeight);
            }
        }
    }

    [Fact]
    public void A_checkpoint_round_trip_continues_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var batches = new[] { 60, 45, 30, 22, 17, 25, 12, 19, 21, 20 }.Select(l0 => Batch(l0 / 2, l0)).ToArray();
        var uninterrupted = new FlopsRegularization(1e-3, 1e-3);
        var reference = new SparsityBudget(uninterrupted, queryL0: 8, docL0: 20, warmupSteps: 6);
        foreach (var batch in batches)
        {
            reference.Update(batch);
        }

        var first = new FlopsRegularization(1e-3, 1e-3);
        var before = new SparsityBudget(first, queryL0: 8, docL0: 20, warmupSteps: 6);
        foreach (var batch in batches[..4])
        {
            before.Update(batch);
        }

        var saved = JsonSerializer.Serialize(before.State);
        var resumed = new FlopsRegularization(5, 5);
        var after = new SparsityBudget(resumed, queryL0: 8, docL0: 20, warmupSteps: 6);
        after.LoadState(JsonSerializer.Deserialize<SparsityBudgetState>(saved)!);
        resumed.QueryWeight.Should().Be(first.QueryWeight, "loading puts the weights back on the regularizer");
        resumed.DocWeight.Should().Be(first.DocWeight);
        after.Step.Should().Be(4);
        foreach (var batch in batches[4..])
        {
            after.Update(batch);
        }

        after.State.Should().Be(reference.State);
        resumed.QueryWeight.Should().Be(uninterrupted.QueryWeight);
        resumed.DocWeight.Should().Be(uninterrupted.DocWeight);
    }

    [Fact]
    public void The_budget_takes_over_from_the_weights_it_finds_at_its_first_update()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, docL0: 10);
        var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 10);
        schedule.Step(5); // λ = 1e-3 · 0.25
        budget.Update(Batch(1, 10));
        flops.DocWeight.Should().Be(1e-3 * 0.25, "at the target, the weight the schedule left stays");
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var loss = new L1Regularization();
        FluentActions.Invoking(() => new SparsityBudget(null!, docL0: 5)).Should().Throw<ArgumentNullException>().WithParameterName("regularizer");
        FluentActions.Invoking(() => new SparsityBudget(loss)).Should().Throw<ArgumentException>().WithMessage("Give a sparsity target*");
        foreach (var bad in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => new SparsityBudget(loss, queryL0: bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryL0");
            FluentActions.Invoking(() => new SparsityBudget(loss, docL0: bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("docL0");
            FluentActions.Invoking(() => new SparsityBudget(loss, flops: bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("flops");
            FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, updateRate: bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("updateRate");
            FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, minWeight: bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minWeight");
        }

        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: -2)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("A sparsity target must be a finite number > 0, but docL0 was -2*");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, updateRate: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("The update rate must be a finite number > 0*");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, minWeight: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("The smallest weight must be a finite number > 0*");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, minWeight: 2, maxWeight: 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("The largest weight must be finite and at least the smallest (2)*");

        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, flops: 3)).Should().Throw<ArgumentException>().WithParameterName("flops").WithMessage("Give either L0 targets or a FLOPS target*");
        FluentActions.Invoking(() => new SparsityBudget(loss, queryL0: 5, flops: 3)).Should().Throw<ArgumentException>().WithParameterName("flops");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, warmupSteps: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("warmupSteps");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, minWeight: 1, maxWeight: 0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxWeight");
        FluentActions.Invoking(() => new SparsityBudget(loss, docL0: 5, maxWeight: double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxWeight");
        new SparsityBudget(loss, docL0: 5, minWeight: 1, maxWeight: 1).MaxWeight.Should().Be(1, "equal bounds pin the weight");
        new SparsityBudget(loss, docL0: 1e-9).DocL0.Should().Be(1e-9);
        var budget = new SparsityBudget(loss, queryL0: 5);
        FluentActions.Invoking(() => budget.Update((BiEncoderOutput)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => budget.Update((SparsityMeasurement)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => budget.LoadState(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Refused_updates_change_nothing()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 2e-3);
        var tooLong = new SparsityBudget(flops, docL0: Length + 1);
        FluentActions.Invoking(() => tooLong.Update(Batch(3, 3))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("The DocL0 target 101 is larger than the vectors' length 100*");
        FluentActions.Invoking(() => new SparsityBudget(flops, queryL0: Length + 0.5).Update(Batch(3, 3))).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SparsityBudget(flops, flops: Length + 1).Update(Batch(3, 3))).Should().Throw<ArgumentOutOfRangeException>();
        new SparsityBudget(flops, flops: Length).Measure(Batch(3, 3)).VectorLength.Should().Be(Length);
        var whole = new SparsityBudget(new FlopsRegularization(), docL0: Length);
        whole.Update(Batch(3, 3));
        whole.Step.Should().Be(1, "a target of every term fits");
        tooLong.Step.Should().Be(0);
        flops.DocWeight.Should().Be(2e-3);

        var budget = new SparsityBudget(flops, docL0: 10);
        FluentActions.Invoking(() => budget.Update(new BiEncoderOutput(QueryEmbeddings: new(ones(2, Length)))))
            .Should().Throw<ArgumentException>().WithMessage("Expected document embeddings in BiEncoderOutput*");
        FluentActions.Invoking(() => budget.Update(Output(ones(2, Length), ones(2, Length + 1))))
            .Should().Throw<ArgumentException>().WithMessage("Query and document vectors must have the same length*");
        var measurement = budget.Measure(Batch(3, 30));
        foreach (var bad in new[] { double.NaN, -1.0, double.PositiveInfinity, 0.5 })
        {
            // The all-reduce checks the counts it returns, as the statistics' does: a bad reduction never reaches the update.
            FluentActions.Invoking(() => measurement.AllReduce(t => t.index_put_(tensor(bad, ScalarType.Float64), tensor(new long[] { 3 }))))
                .Should().Throw<ArgumentException>().WithParameterName("allReduceSum").WithMessage("The all-reduced measurements hold counts that are not whole numbers at least this process's: was the operation a sum?*");
        }

        measurement.AllReduce(t => t.index_put_(tensor(double.NaN, ScalarType.Float64), tensor(new long[] { 4 }))).Length
            .Should().Be(5, "the finiteness witness is no count: NaN there is the update's to refuse");

        var flopsMeasurement = new SparsityBudget(flops, flops: 1).Measure(Batch(3, 3));
        FluentActions.Invoking(() => budget.Update(flopsMeasurement)).Should().Throw<ArgumentException>().WithMessage("The measurement was made by a budget with other targets (queryL0 none, docL0 none, flops 1), but this budget has queryL0 none, docL0 10, flops none*");
        measurement.Dispose();
        FluentActions.Invoking(() => budget.Update(measurement)).Should().Throw<ObjectDisposedException>();
        budget.Step.Should().Be(0);
        budget.MeasuredDocL0.Should().BeNull();
        flops.DocWeight.Should().Be(2e-3);
        FluentActions.Invoking(() => budget.LoadState(budget.State with { Step = -1 })).Should().Throw<ArgumentException>();
        foreach (var bad in new[] { double.NaN, -1.0 })
        {
            FluentActions.Invoking(() => budget.LoadState(budget.State with { QueryWeight = bad })).Should().Throw<ArgumentException>();
            FluentActions.Invoking(() => budget.LoadState(budget.State with { DocWeight = bad })).Should().Throw<ArgumentException>();
        }

        flops.DocWeight.Should().Be(2e-3);
    }

    [Fact]
    public void Measurements_refuse_what_does_not_match()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new L1Regularization(), docL0: 10);
        var measurement = budget.Measure(Batch(3, 30));
        measurement.Length.Should().Be(5);
        measurement.Device.type.Should().Be(DeviceType.CPU);
        FluentActions.Invoking(() => SparsityMeasurement.Sum([])).Should().Throw<ArgumentException>().WithMessage("There are no measurements to sum*");
        FluentActions.Invoking(() => SparsityMeasurement.Sum(null!)).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => SparsityMeasurement.Sum([measurement, null!])).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => SparsityMeasurement.Sum([null!, measurement])).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => measurement.Add(null!)).Should().Throw<ArgumentNullException>();
        var other = new SparsityBudget(new L1Regularization(), docL0: 10).Measure(Output(ones(2, 7), ones(2, 7)));
        FluentActions.Invoking(() => measurement.Add(other)).Should().Throw<ArgumentException>().WithMessage("Measurements do not match: one holds 5 counts of vectors of 100 terms for queryL0 none, docL0 10, flops none, the other 5 of 7*Measure every part with the same budget.*");
        var flopsMeasurement = new SparsityBudget(new L1Regularization(), flops: 1).Measure(Batch(3, 30));
        FluentActions.Invoking(() => measurement.Add(flopsMeasurement)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => measurement.AllReduce(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => measurement.AllReduce(_ => null!)).Should().Throw<ArgumentNullException>().WithMessage("The all-reduce delegate returned null*");
        FluentActions.Invoking(() => measurement.AllReduce(t => t.to(ScalarType.Float32))).Should().Throw<ArgumentException>().WithMessage("The all-reduce must return a 1-D float64 tensor of 5 values*");
        var meta = torch.device("meta");
        var metaMask = ones(2, dtype: ScalarType.Bool, device: meta);
        var onMeta = new SparsityBudget(new L1Regularization { UseScoringMask = true }, docL0: 10)
            .Measure(Output(zeros(2, Length, device: meta), zeros(2, Length, device: meta), metaMask, metaMask));
        FluentActions.Invoking(() => measurement.Add(onMeta)).Should().Throw<ArgumentException>().WithMessage("Found the measurement on cpu and the other measurement on meta*");
        var sum = SparsityMeasurement.Sum([measurement, measurement]);
        Packed(sum).Take(4).Should().Equal(0, 0, 6, 180);
        Packed(sum)[4].Should().BeApproximately(2 * Packed(measurement)[4], 1e-9, "the finiteness witness adds up too");
        Packed(measurement).Take(4).Should().Equal([0, 0, 3, 90], "the parts are left unchanged");
        measurement.Dispose();
        FluentActions.Invoking(() => measurement.Add(sum)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => sum.Add(measurement)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => measurement.AllReduce(t => t)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => SparsityMeasurement.Sum([measurement])).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => SparsityMeasurement.Sum([measurement, sum])).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Repeated_updates_leak_nothing_and_measurements_join_the_callers_scope()
    {
        using var query = SpladeLike.Embeddings(8, 1, 64);
        using var doc = SpladeLike.Embeddings(16, 1, 64);
        var output = Output(query, doc);
        var budgets = new[]
        {
            new SparsityBudget(new FlopsRegularization(), queryL0: 5, docL0: 10),
            new SparsityBudget(new L2Regularization { UseScoringMask = true }, flops: 1),
        };
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 300; i++)
        {
            budgets[i % 2].Update(output);
            using var scope = NewDisposeScope();
            var parts = new[] { budgets[i % 2].Measure(output), budgets[i % 2].Measure(output) };
            budgets[i % 2].Update(SparsityMeasurement.Sum(parts).AllReduce(t => t.clone()));
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0);
        SparsityMeasurement kept;
        using (var scope = NewDisposeScope())
        {
            kept = budgets[0].Measure(output);
            DisposeScopeManager.Statistics.Reset();
            kept.MoveToOuterDisposeScope();
        }

        Packed(kept).Should().HaveCount(5, "moved out of the inner scope");
        kept.Dispose();
        using (var scope = NewDisposeScope())
        {
            kept = budgets[0].Measure(output).DetachFromDisposeScope();
        }

        Packed(kept).Should().HaveCount(5, "detached from every scope");
        kept.Dispose();
        FluentActions.Invoking(() => Packed(kept)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void The_objective_logs_the_budgets_weights_measurements_and_targets()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, docL0: 10, warmupSteps: 2);
        var other = new SparsityBudget(new L1Regularization(2, 3), flops: 1);
        var objective = new TrainingObjective().Add(budget, weight: 0.5).Add(other);
        var output = Batch(4, 40);
        objective.Compute(zeros(1).squeeze(), output).Values.Should().ContainKey("FLOPSRegularization/doc_weight").And.NotContainKey("FLOPSRegularization/doc_l0")
            .And.NotContainKey("FLOPSRegularization/status", "a budget has no status to log before its first update");

        budget.Update(output);
        other.Update(output);
        var values = objective.Compute(zeros(1).squeeze(), output).Values;
        values["FLOPSRegularization/doc_weight"].Should().Be(flops.DocWeight);
        values["FLOPSRegularization/query_weight"].Should().Be(1e-3);
        values["FLOPSRegularization/doc_l0"].Should().Be(40);
        values["FLOPSRegularization/doc_l0_target"].Should().BeApproximately(20, 1e-9, "halfway from 40 to 10 on a log scale");
        values.Should().NotContainKey("FLOPSRegularization/query_l0");
        values["L1Regularization/flops"].Should().Be(other.MeasuredFlops!.Value);
        values["L1Regularization/flops_target"].Should().Be(other.CurrentFlopsTarget!.Value).And.Be(1, "the level steered to: the target, without a warmup");
        values["L1Regularization/query_weight"].Should().Be(other.Regularizer.QueryWeight);
        values["L1Regularization"].Should().BeGreaterThan(0);
        values["FLOPSRegularization/status"].Should().Be((int)SparsityBudgetStatus.Warmup);
        values["L1Regularization/status"].Should().Be((int)other.Status);
        objective.Regularizers.Select(r => r.Weight).Should().Equal(0.5, 1.0);
        var queryBudget = new SparsityBudget(new L1Regularization(), queryL0: 3);
        queryBudget.Update(output);
        var queryValues = new TrainingObjective().Add(queryBudget).Compute(zeros(1).squeeze(), output).Values;
        queryValues.Keys.Should().Contain(["L1Regularization/query_weight", "L1Regularization/doc_weight"]);
        queryValues["L1Regularization/query_l0"].Should().Be(4);
        queryValues["L1Regularization/query_l0_target"].Should().Be(queryBudget.CurrentQueryL0Target!.Value).And.Be(3);
        queryValues.Should().NotContainKey("L1Regularization/doc_l0");
    }

    [Fact]
    public void Sides_name_the_weights_the_budget_sets()
    {
        var loss = new L1Regularization();
        new SparsityBudget(loss, queryL0: 5).Sides.Should().Be(RegularizationSide.Query);
        new SparsityBudget(loss, docL0: 5).Sides.Should().Be(RegularizationSide.Doc);
        new SparsityBudget(loss, queryL0: 5, docL0: 5).Sides.Should().Be(RegularizationSide.Both);
        new SparsityBudget(loss, flops: 5).Sides.Should().Be(RegularizationSide.Both);
    }

    [Fact]
    public void Masked_sequences_of_several_vectors_count_per_vector()
    {
        using var scope = NewDisposeScope();
        // [3, 2, V]: six vectors with 1, 2, 3, 4, 5, 6 non-zeros; the mask keeps vectors (0, 0), (1, 1) and (2, 0).
        var doc = WithNonZeros(1, 2, 3, 4, 5, 6).reshape(3, 2, Length);
        var query = WithNonZeros(7, 8, 9, 10, 11, 12).reshape(3, 2, Length);
        var mask = tensor(new[] { true, false, false, true, true, false }).reshape(3, 2);
        var output = Output(query, doc, mask, mask);
        var loss = new L1Regularization { UseScoringMask = true };

        var l0 = new SparsityBudget(loss, queryL0: 5, docL0: 5);
        l0.Update(output);
        l0.MeasuredDocL0.Should().Be((1 + 4 + 5) / 3.0);
        l0.MeasuredQueryL0.Should().Be((7 + 10 + 11) / 3.0);

        var flops = new SparsityBudget(new L1Regularization { UseScoringMask = true }, flops: 1);
        flops.Update(output);
        var keptDoc = WithNonZeros(1, 4, 5);
        var keptQuery = WithNonZeros(7, 10, 11);
        flops.MeasuredFlops.Should().BeApproximately(SparsityMetrics.Flops(keptQuery, keptDoc), 1e-12);
    }

    /// <summary>Regularizes the first quarter of the terms only.</summary>
    private sealed class FirstTermsOnly : L1Regularization
    {
        public override (Tensor Query, Tensor Doc) ProcessEmbeddings(BiEncoderOutput output)
        {
            var (query, doc) = base.ProcessEmbeddings(output);
            return (query[.., ..25], doc[.., ..25]);
        }
    }
}
