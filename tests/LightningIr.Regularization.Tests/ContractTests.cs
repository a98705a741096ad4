namespace LightningIr.Regularization.Tests;

/// <summary>
/// The argument contracts of the public API: which exception, for which parameter, with which message, and that
/// disposing releases native memory. Found missing by mutation testing (Stryker.NET).
/// </summary>
public sealed class ContractTests
{
    private static BiEncoderOutput Sample(long rows = 4) => TestLosses.Output(rand(rows, 1, 8), rand(rows + 1, 1, 8));

    [Fact]
    public void Null_outputs_and_statistics_are_refused_by_name_even_by_subclasses_that_ignore_the_output()
    {
        using var scope = NewDisposeScope();
        var output = Sample();
        FluentActions.Invoking(() => new L1Regularization().ProcessEmbeddings(null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("output");
        FluentActions.Invoking(() => new FixedEmbeddings().ComputeLoss((BiEncoderOutput)null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("output");
        FluentActions.Invoking(() => new L1Regularization().ComputeLoss(output, null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("total");
        FluentActions.Invoking(() => new L1Regularization().ComputeLossComponents(output, null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("total");

        var empty = new TrainingObjective();
        FluentActions.Invoking(() => empty.CollectStatistics(null!)).Should().Throw<ArgumentNullException>().WithParameterName("output");
        FluentActions.Invoking(() => empty.Compute(zeros(1).squeeze(), null!)).Should().Throw<ArgumentNullException>().WithParameterName("output");
        FluentActions.Invoking(() => empty.Compute(zeros(1).squeeze(), output, null!)).Should().Throw<ArgumentNullException>().WithParameterName("total");
        var disposed = zeros(1).squeeze();
        disposed.Dispose();
        FluentActions.Invoking(() => empty.Compute(disposed, output))
            .Should().Throw<ArgumentException>().WithParameterName("rankingLoss").WithMessage("*but it has been disposed.*");
    }

    [Fact]
    public void Statistics_name_what_does_not_match()
    {
        using var scope = NewDisposeScope();
        var output = Sample();
        var l1 = new L1Regularization().CollectStatistics(output);
        FluentActions.Invoking(() => l1.Add(new L2Regularization().CollectStatistics(output)))
            .Should().Throw<ArgumentException>()
            .WithMessage("Statistics do not match: these statistics were collected by L1Regularization but the other statistics belong to L2Regularization. Collect every part of a batch with the same loss and settings.*");
        FluentActions.Invoking(() => new L1Regularization { UseScoringMask = true }.ComputeLoss(output, l1))
            .Should().Throw<ArgumentException>()
            .WithMessage("Statistics do not match: the statistics were collected with UseScoringMask=False but this loss and part use UseScoringMask=True.*");
        FluentActions.Invoking(() => new FlopsRegularization(queryThreshold: -1))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("An activation threshold must be ≥ 0 (or null for none), but queryThreshold was -1.*");
    }

    [Fact]
    public void Summing_and_adding_statistics_refuses_nulls_and_disposed_operands()
    {
        using var scope = NewDisposeScope();
        var loss = new FlopsRegularization();
        var a = loss.CollectStatistics(Sample());
        var b = loss.CollectStatistics(Sample());
        var disposed = loss.CollectStatistics(Sample());
        disposed.Dispose();

        FluentActions.Invoking(() => RegularizationStatistics.Sum(null!)).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => RegularizationStatistics.Sum([null!])).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => RegularizationStatistics.Sum([a, null!])).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => RegularizationStatistics.Sum([])).Should().Throw<ArgumentException>().WithMessage("There are no statistics to sum*");
        FluentActions.Invoking(() => a.Add(null!)).Should().Throw<ArgumentNullException>().WithParameterName("other");
        FluentActions.Invoking(() => a.Add(disposed)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => RegularizationStatistics.Sum([disposed, a]))
            .Should().Throw<ObjectDisposedException>().Which.ObjectName.Should().Be(typeof(RegularizationStatistics).FullName);
        FluentActions.Invoking(() => disposed.Add(a)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => loss.ComputeLoss(Sample(), disposed))
            .Should().Throw<ObjectDisposedException>().Which.ObjectName.Should().Be(typeof(RegularizationStatistics).FullName);
        a.Add(b).QueryCount.Should().Be(8);

        var objective = new TrainingObjective().Add(loss);
        var part = objective.CollectStatistics(Sample());
        FluentActions.Invoking(() => TrainingObjectiveStatistics.Sum(null!)).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => TrainingObjectiveStatistics.Sum([part, null!])).Should().Throw<ArgumentNullException>().WithParameterName("parts");
        FluentActions.Invoking(() => TrainingObjectiveStatistics.Sum([])).Should().Throw<ArgumentException>().WithMessage("There are no statistics to sum*");
        FluentActions.Invoking(() => new TrainingObjective().Add(loss).Add(loss).Compute(zeros(1).squeeze(), Sample(), part))
            .Should().Throw<ArgumentException>().WithMessage("The statistics hold 1 regularizers but the objective has 2*");
    }

    [Fact]
    public void All_reduce_refuses_every_bad_result_of_either_kind_of_statistics()
    {
        using var scope = NewDisposeScope();
        var loss = new FlopsRegularization();
        var statistics = loss.CollectStatistics(Sample());
        var objective = new TrainingObjective().Add(loss).CollectStatistics(Sample());

        FluentActions.Invoking(() => statistics.AllReduce(null!)).Should().Throw<ArgumentNullException>().WithParameterName("allReduceSum");
        FluentActions.Invoking(() => statistics.AllReduce(_ => null!))
            .Should().Throw<ArgumentNullException>().WithMessage("The all-reduce delegate returned null.*");
        FluentActions.Invoking(() => statistics.AllReduce(t =>
        {
            var gone = t.clone();
            gone.Dispose();
            return gone;
        })).Should().Throw<ArgumentException>().WithMessage("*but returned a disposed tensor.*");
        FluentActions.Invoking(() => statistics.AllReduce(t =>
        {
            var counts = t.clone();
            counts[1] = tensor(0.5, ScalarType.Float64); // only the document count is wrong
            return counts;
        })).Should().Throw<ArgumentException>().WithMessage("*whole numbers at least this process's*");

        FluentActions.Invoking(() => objective.AllReduce(null!)).Should().Throw<ArgumentNullException>().WithParameterName("allReduceSum");
        var calls = 0;
        new TrainingObjective().CollectStatistics(Sample()).AllReduce(t =>
        {
            calls++;
            return t;
        }).RegularizerStatistics.Should().BeEmpty();
        calls.Should().Be(0, "an objective without regularizers has nothing to all-reduce");
        FluentActions.Invoking(() => new TrainingObjective().CollectStatistics(Sample()).AllReduce(null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("allReduceSum", "even with nothing to reduce");
        var two = new TrainingObjective().Add(loss).Add(new L1Regularization()).CollectStatistics(Sample());
        two.Length.Should().Be(two.RegularizerStatistics[0].Length + two.RegularizerStatistics[1].Length);
        FluentActions.Invoking(() => two.Add(null!)).Should().Throw<ArgumentNullException>().WithParameterName("other");
        FluentActions.Invoking(() => objective.AllReduce(_ => null!)).Should().Throw<ArgumentNullException>().WithMessage("The all-reduce delegate returned null.*");
        FluentActions.Invoking(() => objective.AllReduce(t => t[..^1].clone()))
            .Should().Throw<ArgumentException>().WithParameterName("allReduceSum").WithMessage($"The all-reduce must return a 1-D float64 tensor of {objective.Length} values*");
        FluentActions.Invoking(() => objective.AllReduce(t => t.reshape(-1, 1).clone()))
            .Should().Throw<ArgumentException>().WithParameterName("allReduceSum").WithMessage($"*but returned dtype Float64 and shape [{objective.Length}, 1].*");
        FluentActions.Invoking(() => objective.AllReduce(t => t.to(ScalarType.Float32)))
            .Should().Throw<ArgumentException>().WithMessage("*but returned dtype Float32*");
    }

    /// <summary>The three all-reducible containers, each as its sum, its all-reduce, its disposal and its own words.</summary>
    public static TheoryData<string> Containers => new() { "statistics", "objective statistics", "measurement" };

    [Theory]
    [MemberData(nameof(Containers))]
    public void Every_all_reducible_container_refuses_alike(string kind)
    {
        using var scope = NewDisposeScope();
        var output = Sample();
        // A second part: 2 queries, and 3 documents with no non-zero entry.
        var other = TestLosses.Output(rand(2, 1, 8), zeros(3, 1, 8));
        var loss = new FlopsRegularization();
        var objective = new TrainingObjective().Add(loss);
        var budget = new SparsityBudget(loss, docL0: 2);
        // Probe: a figure the container's sum adds up (query rows), or for a measurement the document L0 an update reads from it.
        (Func<BiEncoderOutput, IDisposable> Make, Func<IDisposable, Func<Tensor, Tensor>, IDisposable> AllReduce, Func<IDisposable, IDisposable, IDisposable> Add, Action Empty, Func<IDisposable, double> Probe, double Summed, string Noun) container = kind switch
        {
            "statistics" => (o => loss.CollectStatistics(o), (c, f) => ((RegularizationStatistics)c).AllReduce(f),
                (a, b) => ((RegularizationStatistics)a).Add((RegularizationStatistics)b), () => RegularizationStatistics.Sum([]),
                c => ((RegularizationStatistics)c).QueryCount, 4 + 2, "statistics"),
            "objective statistics" => (o => objective.CollectStatistics(o), (c, f) => ((TrainingObjectiveStatistics)c).AllReduce(f),
                (a, b) => ((TrainingObjectiveStatistics)a).Add((TrainingObjectiveStatistics)b), () => TrainingObjectiveStatistics.Sum([]),
                c => ((TrainingObjectiveStatistics)c).RegularizerStatistics[0].QueryCount, 4 + 2, "statistics"),
            _ => (o => budget.Measure(o), (c, f) => ((SparsityMeasurement)c).AllReduce(f),
                (a, b) => ((SparsityMeasurement)a).Add((SparsityMeasurement)b), () => SparsityMeasurement.Sum([]),
                c =>
                {
                    var reader = new SparsityBudget(new FlopsRegularization(), docL0: 2);
                    reader.Update((SparsityMeasurement)c);
                    return reader.MeasuredDocL0!.Value;
                },
                5.0 * 8 / (5 + 3), "measurements"),
        };

        var live = container.Make(output);
        var single = container.Probe(live);
        container.Probe(container.AllReduce(live, t => t)).Should().Be(single, "an identity all-reduce is a sum over one process");
        container.Probe(container.Add(live, container.Make(other))).Should().Be(container.Summed, "the sum of the two parts");
        FluentActions.Invoking(container.Empty).Should().Throw<ArgumentException>().WithMessage($"There are no {container.Noun} to sum*");
        FluentActions.Invoking(() => container.AllReduce(live, t => t.div(2))).Should().Throw<ArgumentException>()
            .WithParameterName("allReduceSum").WithMessage("*hold counts that are not whole numbers at least this process's: was the operation a sum?*");
        FluentActions.Invoking(() => container.AllReduce(live, t => t.to(ScalarType.Float32))).Should().Throw<ArgumentException>()
            .WithParameterName("allReduceSum").WithMessage("The all-reduce must return a 1-D float64 tensor of * values*");
        FluentActions.Invoking(() => container.AllReduce(live, _ => null!)).Should().Throw<ArgumentNullException>().WithMessage("The all-reduce delegate returned null*");
        var gone = container.Make(output);
        gone.Dispose();
        FluentActions.Invoking(() => container.AllReduce(gone, t => t)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => container.Add(gone, live)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => container.Add(live, gone)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Disposing_statistics_and_estimators_releases_their_tensors_and_detached_ones_outlive_the_scope()
    {
        var output = Sample();
        var objective = new TrainingObjective().Add(new FlopsRegularization()).Add(new L1Regularization());
        TrainingObjectiveStatistics kept;
        RegularizationStatistics single;
        using (var scope = NewDisposeScope())
        {
            kept = objective.CollectStatistics(output).DetachFromDisposeScope();
            single = new FlopsRegularization().CollectStatistics(output).DetachFromDisposeScope();
        }

        DisposeScopeManager.Statistics.Reset();
        using (var scope = NewDisposeScope())
        {
            objective.Compute(zeros(1).squeeze(), output, kept).Values.Should().ContainKey("FLOPSRegularization");
        }

        kept.Dispose();
        single.Dispose();
        DisposeScopeManager.Statistics.DisposedOutsideScopeCount.Should().Be(3, "one packed tensor for each of the three statistics");
        var estimator = new DocumentFrequencyEstimator();
        estimator.Add(output.DocEmbeddings!.Embeddings);
        DisposeScopeManager.Statistics.Reset();
        estimator.Reset();
        DisposeScopeManager.Statistics.DisposedOutsideScopeCount.Should().Be(1, "Reset releases the counts");
        estimator.Add(output.DocEmbeddings!.Embeddings);
        DisposeScopeManager.Statistics.Reset();
        estimator.Dispose();
        DisposeScopeManager.Statistics.DisposedOutsideScopeCount.Should().Be(1, "Dispose releases the counts");
        output.QueryEmbeddings!.Embeddings.Dispose();
        output.DocEmbeddings.Embeddings.Dispose();
    }

    [Fact]
    public void Split_batch_support_needs_a_split_batch_penalty_on_each_side()
    {
        using var scope = NewDisposeScope();
        var output = Sample();
        FluentActions.Invoking(() => new PlainDocPenalty().CollectStatistics(output))
            .Should().Throw<NotSupportedException>()
            .WithMessage($"{typeof(PlainDocPenalty).FullName} regularizes the document side with {typeof(SumPenalty).FullName}, which does not derive from SplitBatchPenalty*Derive the penalty from SplitBatchPenalty*");
        FluentActions.Invoking(() => new PlainDocPenalty { QueryIsPlain = true }.CollectStatistics(output))
            .Should().Throw<NotSupportedException>().WithMessage("*regularizes the query side with*");
        new PlainDocPenalty().ComputeLoss(output).item<float>().Should().BeGreaterThan(0, "the whole batch needs no decomposition");
    }

    [Fact]
    public void Functional_forms_name_bad_input_and_accept_threshold_zero()
    {
        using var scope = NewDisposeScope();
        var x = SplitBatchTests.SpladeLike([6, 12], ScalarType.Float32, seed: 60);
        FluentActions.Invoking(() => RegularizationFunctional.Flops(ones(3)))
            .Should().Throw<ArgumentException>().WithParameterName("embeddings").WithMessage("The input embeddings must have shape*");
        FluentActions.Invoking(() => RegularizationFunctional.Flops(x, threshold: -2))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("An activation threshold must be ≥ 0 (or null for none), but threshold was -2.*");
        FluentActions.Invoking(() => RegularizationFunctional.Flops(x, termWeights: ones(5)))
            .Should().Throw<ArgumentException>().WithMessage("The input term weights have shape [5]*");
        FluentActions.Invoking(() => RegularizationFunctional.L1(x, ones(6, dtype: ScalarType.Int32)))
            .Should().Throw<ArgumentException>().WithMessage("The input scoring mask must be a boolean tensor*");
        RegularizationFunctional.Flops(x, threshold: 0).equal(new FlopsRegularization(1, 0, queryThreshold: 0).ComputeLoss(x, x))
            .item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Masks_metrics_weights_and_activations_say_what_is_wrong()
    {
        using var scope = NewDisposeScope();
        var x = rand(4, 8);
        var mask = ones(4, dtype: ScalarType.Bool);
        mask.Dispose();
        FluentActions.Invoking(() => new L2Regularization { UseScoringMask = true }.ComputeLoss(TestLosses.Output(x, x, mask)))
            .Should().Throw<ArgumentException>().WithMessage("The query scoring mask has been disposed.*");
        FluentActions.Invoking(() => SparsityMetrics.L0(ones(3))).Should().Throw<ArgumentException>().WithMessage("The input embeddings must have shape*");
        FluentActions.Invoking(() => SparsityMetrics.Flops(ones(3), x))
            .Should().Throw<ArgumentException>().WithParameterName("queryEmbeddings").WithMessage("The query embeddings must have shape*");
        FluentActions.Invoking(() => SparsityMetrics.Flops(x, ones(3)))
            .Should().Throw<ArgumentException>().WithParameterName("docEmbeddings").WithMessage("The document embeddings must have shape*");

        var loss = new FlopsRegularization();
        var gone = ones(8);
        gone.Dispose();
        FluentActions.Invoking(() => loss.DocTermWeights = gone).Should().Throw<ArgumentException>().WithMessage("The term weights tensor has been disposed.*");
        FluentActions.Invoking(() => loss.DocTermWeights = ones(8, dtype: ScalarType.Int64))
            .Should().Throw<ArgumentException>().WithMessage("Term weights must be a floating-point tensor, but have dtype Int64.*");
        FluentActions.Invoking(() => loss.DocTermWeights = tensor(new[] { -1.0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("Term weights must all be finite and ≥ 0*");
        FluentActions.Invoking(() => new DocumentFrequencyEstimator().Add(ones(2, 4, dtype: ScalarType.Int32)))
            .Should().Throw<ArgumentException>().WithMessage("The document embeddings must be a floating-point tensor*");

        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(x, 2, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("α is the document-frequency fraction whose weight is ½*");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(x, 0.5, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("β is the steepness*");
        FluentActions.Invoking(() => TermWeighting.DocumentFrequencyWeights(x.add(1), 0.5, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Document-frequency fractions must lie in [0, 1]*");
    }

    [Fact]
    public void Schedules_accept_their_boundary_values_and_explain_refusals()
    {
        var l1 = new L1Regularization(1, 1);
        new LinearSchedulerWithLinearWarmup(l1, 10, 100, finalValue: 0).FinalValue.Should().Be(0);
        new LinearSchedulerWithLinearWarmup(l1, 10, 100, finalValue: 1).ValueAt(100).Should().Be(1, "a final value of 1 never decays");
        ConstantSchedulerWithLinearWarmup.FromWarmupRatio(l1, 100, 0).ValueAt(1).Should().Be(1, "a warmup ratio of 0 means no warmup");
        ConstantSchedulerWithLinearWarmup.FromWarmupRatio(l1, 100, 1).NumWarmupSteps.Should().Be(100);
        FluentActions.Invoking(() => new LinearSchedulerWithLinearWarmup(l1, 10, 100, finalValue: -0.1))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("The final value must be between 0 and 1.*");
        FluentActions.Invoking(() => ConstantSchedulerWithLinearWarmup.FromWarmupRatio(l1, 100, -0.1))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("The warmup ratio must be between 0 and 1.*");
        FluentActions.Invoking(() => new ConstantSchedulerWithLinearWarmup(l1, 10, sides: 0))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("Schedule the query weight, the document weight or both.*");
    }

    [Fact]
    public void Half_precision_statistics_sum_in_float32()
    {
        using var scope = NewDisposeScope();
        // 2049 is not a float16 number: a column sum rounded to float16 would read 2048.
        var x = ones(2049, 3, dtype: ScalarType.Float16);
        var statistics = new FlopsRegularization().CollectStatistics(TestLosses.Output(x, x));
        double[] packed = [];
        statistics.AllReduce(t =>
        {
            packed = t.data<double>().ToArray();
            return t.clone();
        });
        packed.Should().Equal(2049, 2049, 2049, 2049, 2049, 2049, 2049, 2049);
    }

    [Fact]
    public void Records_differ_in_every_member_and_in_their_type()
    {
        var a = ones(1);
        var b = ones(1);
        new RegularizationLossComponents(a, a, a).Should().NotBe(new RegularizationLossComponents(b, a, a));
        new RegularizationLossComponents(a, a, a).Should().NotBe(new RegularizationLossComponents(a, b, a));
        new BiEncoderEmbedding(a).Should().NotBe(new TaggedEmbedding(a), "a derived record type is another type");
        new BiEncoderEmbedding(a).Should().NotBe(new BiEncoderEmbedding(a, null, ["d1"]));
        a.Dispose();
        b.Dispose();
    }

    private sealed record TaggedEmbedding(Tensor Embeddings) : BiEncoderEmbedding(Embeddings);

    /// <summary>Ignores the output: the base must still refuse a null one.</summary>
    private sealed class FixedEmbeddings : L2Regularization
    {
        public override (Tensor Query, Tensor Doc) ProcessEmbeddings(BiEncoderOutput output) => (ones(2, 3), ones(2, 3));
    }

    /// <summary>FLOPS on queries (split-batch capable), a plain sum on documents (not).</summary>
    private sealed class PlainDocPenalty : RegularizationLossFunction
    {
        public bool QueryIsPlain { get; init; }

        protected override EmbeddingPenalty GetPenalty(RegularizationSide side)
            => side == RegularizationSide.Query && !QueryIsPlain ? new FlopsPenalty() : new SumPenalty();
    }

    private sealed class SumPenalty : EmbeddingPenalty
    {
        protected override Tensor Compute(Tensor embeddings, Tensor? scoringMask) => embeddings.sum();
    }
}
