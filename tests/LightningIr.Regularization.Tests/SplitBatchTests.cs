namespace LightningIr.Regularization.Tests;

/// <summary>
/// Exact regularization of a split batch: the parts' shares add up to the whole batch's loss and send the whole
/// batch's gradient into each part's embeddings.
/// </summary>
public sealed class SplitBatchTests
{
    private static readonly int[] QuerySplit = [5, 5, 1, 1];
    private static readonly int[] DocSplit = [10, 10, 3, 1];

    public static TheoryData<string, ScalarType, bool> LossesDtypesAndRanks()
    {
        var data = new TheoryData<string, ScalarType, bool>();
        foreach (var name in TestLosses.Names)
        {
            foreach (var dtype in TestLosses.FloatTypes)
            {
                data.Add(name, dtype, false);
                data.Add(name, dtype, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LossesDtypesAndRanks))]
    public void Shares_add_up_to_the_whole_batch_loss_and_gradient(string name, ScalarType dtype, bool multiVector)
    {
        using var scope = NewDisposeScope();
        long[] vector = multiVector ? [3, 16] : [16];
        var query = SpladeLike([12, .. vector], dtype, seed: 1);
        var doc = SpladeLike([24, .. vector], dtype, seed: 2);
        AssertSplitMatchesWhole(TestLosses.Create(name, 0.7, 0.3), query, doc, null, null, dtype);
    }

    [Theory]
    [MemberData(nameof(TestLosses.All), MemberType = typeof(TestLosses))]
    public void Scoring_masks_and_zero_weights_split_exactly(string name)
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([12, 4, 16], ScalarType.Float64, seed: 3);
        var doc = SpladeLike([24, 4, 16], ScalarType.Float64, seed: 4);
        var queryMask = rand(12, 4, generator: new Generator(5)).gt(0.3);
        var docMask = rand(24, 4, generator: new Generator(6)).gt(0.3);
        docMask[3] = zeros(4, dtype: ScalarType.Bool); // a document of padding only
        var loss = TestLosses.Create(name, 0, 0.9);
        loss.UseScoringMask = true;
        AssertSplitMatchesWhole(loss, query, doc, queryMask, docMask, ScalarType.Float64);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void FLOPS_thresholds_with_masks_split_exactly(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([12, 2, 16], dtype, seed: 7);
        var doc = SpladeLike([24, 2, 16], dtype, seed: 8);
        var queryMask = rand(12, 2, generator: new Generator(9)).gt(0.2);
        var loss = new FlopsRegularization(0.5, 0.25, queryThreshold: 3, docThreshold: 5) { UseScoringMask = true };
        AssertSplitMatchesWhole(loss, query, doc, queryMask, null, dtype);
    }

    [Fact]
    public void All_zero_rows_split_exactly()
    {
        using var scope = NewDisposeScope();
        var query = zeros(12, 16, dtype: ScalarType.Float64);
        var doc = SpladeLike([24, 16], ScalarType.Float64, seed: 10);
        doc[.., ..] = doc.mul(arange(24).remainder(2).unsqueeze(1)); // every other document all zero
        foreach (var name in TestLosses.Names)
        {
            AssertSplitMatchesWhole(TestLosses.Create(name, 1, 1), query, doc, null, null, ScalarType.Float64);
        }
    }

    [Fact]
    public void A_subclass_that_overrides_ProcessEmbeddings_splits_exactly()
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([12, 4, 16], ScalarType.Float32, seed: 11);
        var doc = SpladeLike([24, 4, 16], ScalarType.Float32, seed: 12);
        AssertSplitMatchesWhole(new FirstVectorFlops(), query, doc, null, null, ScalarType.Float32);
    }

    [Fact]
    public void Simulated_ranks_all_reduce_to_the_whole_batch()
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([12, 1, 32], ScalarType.Float32, seed: 13);
        var doc = SpladeLike([24, 1, 32], ScalarType.Float32, seed: 14);
        var loss = new FlopsRegularization(0.3, 0.6, docThreshold: 4);
        var ranks = Enumerable.Range(0, 3).Select(r => Part(query, doc, null, null, r * 4, 4, r * 8, 8)).ToList();
        var local = ranks.Select(loss.CollectStatistics).ToList();

        // Every rank hands its packed statistics to the collective; the collective returns their sum.
        var packed = local.Select(s => Capture(s)).ToList();
        var sum = packed.Aggregate((a, b) => a.add(b));
        var reduced = local.Select(s => s.AllReduce(t => sum.clone())).ToList();

        using var plain = RegularizationStatistics.Sum(local);
        var wholeValue = loss.ComputeLoss(TestLosses.Output(query, doc)).item<float>();
        var shares = ranks.Zip(reduced, (part, total) => loss.ComputeLoss(part, total).item<float>()).Sum();
        shares.Should().BeApproximately(wholeValue, 1e-5f * wholeValue);
        foreach (var total in reduced)
        {
            total.QueryCount.Should().Be(12);
            total.DocCount.Should().Be(24);
            total.Length.Should().Be(plain.Length);
            loss.ComputeLoss(ranks[0], total).item<float>().Should().Be(loss.ComputeLoss(ranks[0], plain).item<float>());
        }
    }

    [Fact]
    public void TrainingObjective_splits_every_regularizer_at_once()
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([12, 1, 16], ScalarType.Float64, seed: 15);
        var doc = SpladeLike([24, 1, 16], ScalarType.Float64, seed: 16);
        var objective = new TrainingObjective("Ranking")
            .Add(new FlopsRegularization(0.5, 0.5))
            .Add(new L1Regularization(0.1, 0.2), weight: 0.5)
            .Add(new L2Regularization(0.3, 0.1));
        var whole = objective.Compute(zeros(1, dtype: ScalarType.Float64).squeeze(), TestLosses.Output(query, doc));

        var parts = Split(query, doc, null, null).ToList();
        var total = TrainingObjectiveStatistics.Sum(parts.Select(objective.CollectStatistics));
        var reducedOnce = total.AllReduce(t => t.clone());
        var sums = new Dictionary<string, double>();
        foreach (var part in parts)
        {
            var result = objective.Compute(zeros(1, dtype: ScalarType.Float64).squeeze(), part, reducedOnce);
            foreach (var (key, value) in result.Values)
            {
                sums[key] = sums.GetValueOrDefault(key) + value;
            }
        }

        sums.Keys.Should().BeEquivalentTo(whole.Values.Keys);
        foreach (var (key, value) in whole.Values)
        {
            sums[key].Should().BeApproximately(value, 1e-12 * Math.Max(1, Math.Abs(value)), key);
        }
    }

    [Fact]
    public void Weights_are_read_when_the_share_is_computed()
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([4, 8], ScalarType.Float64, seed: 17);
        var doc = SpladeLike([6, 8], ScalarType.Float64, seed: 18);
        var loss = new FlopsRegularization(1, 1);
        var output = TestLosses.Output(query, doc);
        var total = loss.CollectStatistics(output);
        var before = loss.ComputeLoss(output, total).item<double>();
        loss.QueryWeight = 2;
        loss.DocWeight = 2;
        loss.ComputeLoss(output, total).item<double>().Should().BeApproximately(2 * before, 1e-14);
    }

    [Fact]
    public void Statistics_build_no_graph_and_hold_float64_on_the_embeddings_device()
    {
        using var scope = NewDisposeScope();
        var query = SpladeLike([4, 8], ScalarType.Float16, seed: 19).requires_grad_();
        var doc = SpladeLike([6, 8], ScalarType.Float16, seed: 20).requires_grad_();
        foreach (var name in TestLosses.Names)
        {
            var statistics = TestLosses.Create(name).CollectStatistics(TestLosses.Output(query, doc));
            statistics.QueryCount.Should().Be(4);
            statistics.DocCount.Should().Be(6);
            statistics.Device.type.Should().Be(DeviceType.CPU);
            var packed = Capture(statistics);
            packed.dtype.Should().Be(ScalarType.Float64);
            packed.requires_grad.Should().BeFalse(name);
        }
    }

    [Fact]
    public void The_share_has_the_parts_dtype()
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in TestLosses.FloatTypes)
        {
            var x = SpladeLike([4, 8], dtype, seed: 21);
            foreach (var name in TestLosses.Names)
            {
                var loss = TestLosses.Create(name);
                var output = TestLosses.Output(x, x);
                loss.ComputeLoss(output, loss.CollectStatistics(output)).dtype.Should().Be(dtype, name);
            }
        }
    }

    [Fact]
    public void Statistics_of_another_loss_type_or_setting_are_refused()
    {
        using var scope = NewDisposeScope();
        var x = SpladeLike([4, 8], ScalarType.Float32, seed: 22);
        var output = TestLosses.Output(x, x);
        var l1 = new L1Regularization().CollectStatistics(output);

        FluentActions.Invoking(() => new L2Regularization().ComputeLoss(output, l1))
            .Should().Throw<ArgumentException>().WithParameterName("total").WithMessage("*collected by L1Regularization*L2Regularization*");
        FluentActions.Invoking(() => new FlopsRegularization(docThreshold: 2).ComputeLoss(output, new FlopsRegularization().CollectStatistics(output)))
            .Should().Throw<ArgumentException>().WithMessage("*DocThreshold=*DocThreshold=2*");
        FluentActions.Invoking(() => new FlopsRegularization(queryThreshold: 3).ComputeLoss(output, new FlopsRegularization().CollectStatistics(output)))
            .Should().Throw<ArgumentException>().WithMessage("*QueryThreshold=*QueryThreshold=3*");
        FluentActions.Invoking(() => new L1Regularization { UseScoringMask = true }.ComputeLossComponents(output, l1))
            .Should().Throw<ArgumentException>().WithMessage("*UseScoringMask=False*UseScoringMask=True*");
        FluentActions.Invoking(() => l1.Add(new L2Regularization().CollectStatistics(output)))
            .Should().Throw<ArgumentException>().WithParameterName("other");
    }

    [Fact]
    public void Statistics_of_another_shape_or_fewer_rows_are_refused()
    {
        using var scope = NewDisposeScope();
        var loss = new FlopsRegularization();
        var small = TestLosses.Output(SpladeLike([2, 8], ScalarType.Float32, 23), SpladeLike([3, 8], ScalarType.Float32, 24));
        var large = TestLosses.Output(SpladeLike([5, 8], ScalarType.Float32, 25), SpladeLike([3, 8], ScalarType.Float32, 26));
        var wide = TestLosses.Output(SpladeLike([2, 9], ScalarType.Float32, 27), SpladeLike([3, 8], ScalarType.Float32, 28));
        var smallTotal = loss.CollectStatistics(small);

        FluentActions.Invoking(() => loss.ComputeLoss(large, smallTotal))
            .Should().Throw<ArgumentException>().WithMessage("*2 query and 3 document rows, fewer than this part's 5 and 3*");
        FluentActions.Invoking(() => loss.ComputeLoss(wide, smallTotal))
            .Should().Throw<ArgumentException>().WithMessage("*query vectors [8]*[9]*");
        FluentActions.Invoking(() => smallTotal.Add(loss.CollectStatistics(wide)))
            .Should().Throw<ArgumentException>().WithMessage("*shapes without the batch dimension*");
    }

    [Fact]
    public void Bad_all_reduce_results_and_empty_sums_are_refused()
    {
        using var scope = NewDisposeScope();
        var x = SpladeLike([4, 8], ScalarType.Float32, seed: 29);
        var statistics = new FlopsRegularization().CollectStatistics(TestLosses.Output(x, x));

        FluentActions.Invoking(() => statistics.AllReduce(t => t[..^1].clone()))
            .Should().Throw<ArgumentException>().WithParameterName("allReduceSum").WithMessage($"*{statistics.Length} values*");
        FluentActions.Invoking(() => statistics.AllReduce(t => t.to(ScalarType.Float32)))
            .Should().Throw<ArgumentException>().WithMessage("*float64*Float32*");
        FluentActions.Invoking(() => statistics.AllReduce(t => t.div(2)))
            .Should().Throw<ArgumentException>().WithMessage("*was the operation a sum?*");
        FluentActions.Invoking(() => statistics.AllReduce(t => t.add(0.5)))
            .Should().Throw<ArgumentException>().WithMessage("*whole numbers*");
        FluentActions.Invoking(() => statistics.AllReduce(_ => null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("allReduceSum");
        FluentActions.Invoking(() => RegularizationStatistics.Sum([]))
            .Should().Throw<ArgumentException>().WithParameterName("parts");
        FluentActions.Invoking(() => TrainingObjectiveStatistics.Sum([]))
            .Should().Throw<ArgumentException>().WithParameterName("parts");
    }

    [Fact]
    public void Disposed_statistics_and_mismatched_objectives_are_refused()
    {
        using var scope = NewDisposeScope();
        var x = SpladeLike([4, 8], ScalarType.Float32, seed: 30);
        var output = TestLosses.Output(x, x);
        var loss = new L2Regularization();
        var statistics = loss.CollectStatistics(output);
        statistics.Dispose();
        FluentActions.Invoking(() => loss.ComputeLoss(output, statistics)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => statistics.AllReduce(t => t)).Should().Throw<ObjectDisposedException>();

        var one = new TrainingObjective().Add(new L1Regularization());
        var two = new TrainingObjective().Add(new L1Regularization()).Add(new L2Regularization());
        FluentActions.Invoking(() => two.Compute(zeros(1).squeeze(), output, one.CollectStatistics(output)))
            .Should().Throw<ArgumentException>().WithParameterName("total");
        FluentActions.Invoking(() => one.CollectStatistics(output).Add(two.CollectStatistics(output)))
            .Should().Throw<ArgumentException>().WithMessage("*1 regularizers and the other 2*");
    }

    [Fact]
    public void A_subclass_whose_penalty_has_no_decomposition_is_not_supported()
    {
        using var scope = NewDisposeScope();
        var x = SpladeLike([4, 8], ScalarType.Float32, seed: 31);
        var output = TestLosses.Output(x, x);
        var direct = new CubedNorm();
        var derived = new SquaredL1();
        using var statistics = new L1Regularization().CollectStatistics(output);

        FluentActions.Invoking(() => direct.CollectStatistics(output))
            .Should().Throw<NotSupportedException>().WithMessage($"*{typeof(CubedNorm).FullName}*");
        FluentActions.Invoking(() => derived.CollectStatistics(output))
            .Should().Throw<NotSupportedException>().WithMessage($"*{typeof(SquaredL1).FullName}*");
        FluentActions.Invoking(() => derived.ComputeLoss(output, statistics)).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => derived.ComputeLossComponents(output, statistics)).Should().Throw<NotSupportedException>();
        derived.ComputeLoss(output).item<float>().Should().BeGreaterThan(0, "the plain path still works");
        AssertSplitMatchesWhole(
            new SquaredL1WithHooks(), SpladeLike([12, 8], ScalarType.Float32, 35), SpladeLike([24, 8], ScalarType.Float32, 36), null, null, ScalarType.Float32);
    }

    [Fact]
    public void Repeated_split_batch_steps_leak_no_tensor()
    {
        using var query = SpladeLike([12, 1, 32], ScalarType.Float32, seed: 32).requires_grad_();
        using var doc = SpladeLike([24, 1, 32], ScalarType.Float32, seed: 33).requires_grad_();
        var objective = new TrainingObjective().Add(new FlopsRegularization(docThreshold: 3)).Add(new L1Regularization());
        DisposeScopeManager.Statistics.Reset();
        for (var i = 0; i < 50; i++)
        {
            using var step = NewDisposeScope();
            var parts = Split(query, doc, null, null).ToList();
            using var total = TrainingObjectiveStatistics.Sum(parts.Select(objective.CollectStatistics)).AllReduce(t => t.clone());
            foreach (var part in parts)
            {
                objective.Compute(zeros(1).squeeze(), part, total).Loss.backward();
            }
        }

        query.grad?.Dispose();
        doc.grad?.Dispose();
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(0, DisposeScopeManager.Statistics.ToString());
    }

    [Fact]
    public void Statistics_join_the_callers_scope_and_can_leave_it()
    {
        using var query = SpladeLike([4, 8], ScalarType.Float32, seed: 34);
        var loss = new FlopsRegularization();
        RegularizationStatistics kept;
        RegularizationStatistics scoped;
        using (var scope = NewDisposeScope())
        {
            DisposeScopeManager.Statistics.Reset();
            scoped = loss.CollectStatistics(TestLosses.Output(query, query));
            kept = loss.CollectStatistics(TestLosses.Output(query, query)).DetachFromDisposeScope();
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(2, "one packed tensor per statistics, no intermediates");
        }

        FluentActions.Invoking(() => loss.ComputeLoss(TestLosses.Output(query, query), scoped)).Should().Throw<ObjectDisposedException>();
        using (var scope = NewDisposeScope())
        {
            loss.ComputeLoss(TestLosses.Output(query, query), kept).item<float>().Should().BeGreaterThan(0);
        }

        kept.Dispose();
    }

    // --- helpers ------------------------------------------------------------------------------

    /// <summary>SPLADE-like activations: log(1 + ReLU(z − 0.5)), mostly exact zeros.</summary>
    internal static Tensor SpladeLike(long[] shape, ScalarType dtype, int seed)
        => randn(shape, dtype: ScalarType.Float64, generator: new Generator((ulong)seed)).sub(0.5).relu().log1p().to(dtype);

    /// <summary>The packed float64 vector the statistics hand to an all-reduce.</summary>
    private static Tensor Capture(RegularizationStatistics statistics)
    {
        Tensor? packed = null;
        statistics.AllReduce(t =>
        {
            packed = t.clone().MoveToOuterDisposeScope(); // out of AllReduce's scope into the test's
            return t.clone();
        }).Dispose();
        return packed!;
    }

    private static BiEncoderOutput Part(Tensor query, Tensor doc, Tensor? queryMask, Tensor? docMask, long q0, long qn, long d0, long dn)
        => TestLosses.Output(query.narrow(0, q0, qn), doc.narrow(0, d0, dn), queryMask?.narrow(0, q0, qn), docMask?.narrow(0, d0, dn));

    /// <summary>The batch cut into uneven parts, down to parts of one row.</summary>
    private static IEnumerable<BiEncoderOutput> Split(Tensor query, Tensor doc, Tensor? queryMask, Tensor? docMask)
    {
        long q0 = 0;
        long d0 = 0;
        for (var i = 0; i < QuerySplit.Length; i++)
        {
            yield return Part(query, doc, queryMask, docMask, q0, QuerySplit[i], d0, DocSplit[i]);
            q0 += QuerySplit[i];
            d0 += DocSplit[i];
        }
    }

    private static void AssertSplitMatchesWhole(
        RegularizationLossFunction loss, Tensor query, Tensor doc, Tensor? queryMask, Tensor? docMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var wholeQuery = query.detach().clone().requires_grad_();
        var wholeDoc = doc.detach().clone().requires_grad_();
        var whole = loss.ComputeLossComponents(TestLosses.Output(wholeQuery, wholeDoc, queryMask, docMask));
        whole.Total.backward();

        var partQuery = query.detach().clone().requires_grad_();
        var partDoc = doc.detach().clone().requires_grad_();
        var parts = Split(partQuery, partDoc, queryMask, docMask).ToList();
        using var total = RegularizationStatistics.Sum(parts.Select(loss.CollectStatistics));
        total.QueryCount.Should().Be(query.shape[0]);
        total.DocCount.Should().Be(doc.shape[0]);
        double value = 0;
        double queryShare = 0;
        double docShare = 0;
        foreach (var part in parts)
        {
            var components = loss.ComputeLossComponents(part, total);
            components.Total.dtype.Should().Be(dtype);
            components.Total.backward();
            value += ToDouble(components.Total);
            queryShare += ToDouble(components.Query);
            docShare += ToDouble(components.Doc);
        }

        var rtol = SplitTolerance(dtype);
        Close(value, ToDouble(whole.Total), rtol, "value");
        Close(queryShare, ToDouble(whole.Query), rtol, "query share");
        Close(docShare, ToDouble(whole.Doc), rtol, "document share");
        Tolerance.AssertClose(GoldenParityTests.Values(partQuery.grad!), GoldenParityTests.Values(wholeQuery.grad!), dtype, "query gradient");
        Tolerance.AssertClose(GoldenParityTests.Values(partDoc.grad!), GoldenParityTests.Values(wholeDoc.grad!), dtype, "document gradient");
    }

    /// <summary>The tolerances: 1e-5 in float32, 1e-10 in float64, a few units in the last place for the half types.</summary>
    private static double SplitTolerance(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 1e-10,
        ScalarType.Float32 => 1e-5,
        ScalarType.Float16 => 4e-3,
        _ => 3e-2,
    };

    private static void Close(double actual, double expected, double rtol, string what)
        => Math.Abs(actual - expected).Should().BeLessThanOrEqualTo(rtol * Math.Abs(expected) + 1e-300, $"{what}: {actual} vs whole batch {expected}");

    private static double ToDouble(Tensor t) => t.detach().to(ScalarType.Float64).item<double>();

    /// <summary>FLOPS of each sequence's first vector only: a subclass that selects vectors.</summary>
    private sealed class FirstVectorFlops : FlopsRegularization
    {
        public FirstVectorFlops() : base(0.5, 0.5)
        {
        }

        public override (Tensor Query, Tensor Doc) ProcessEmbeddings(BiEncoderOutput output)
        {
            var (query, doc) = base.ProcessEmbeddings(output);
            return (query[.., 0], doc[.., 0]);
        }
    }

    /// <summary>A new penalty straight on the base, without its decomposition.</summary>
    private sealed class CubedNorm : RegularizationLossFunction
    {
        protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => new CubedNormPenalty();
    }

    private sealed class CubedNormPenalty : EmbeddingPenalty
    {
        protected override Tensor Compute(Tensor embeddings, Tensor? scoringMask) => linalg.vector_norm(embeddings, 3, [-1]).mean();
    }

    /// <summary>L1's decomposition does not carry over to a changed penalty, so the split batch is refused.</summary>
    private class SquaredL1 : L1Regularization
    {
        protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => new SquaredL1Penalty();
    }

    private sealed class SquaredL1Penalty : EmbeddingPenalty
    {
        protected override Tensor Compute(Tensor embeddings, Tensor? scoringMask) => linalg.vector_norm(embeddings, 1, [-1]).pow(2).mean();
    }

    /// <summary>The same penalty with its decomposition: statistics [Σ ‖x‖₁², count].</summary>
    private sealed class SquaredL1WithHooks : SquaredL1
    {
        protected override EmbeddingPenalty GetPenalty(RegularizationSide side) => new SplitSquaredL1Penalty();
    }

    private sealed class SplitSquaredL1Penalty : SplitBatchPenalty
    {
        protected override Tensor Compute(Tensor embeddings, Tensor? scoringMask) => linalg.vector_norm(embeddings, 1, [-1]).pow(2).mean();

        protected override Tensor CollectStatistics(Tensor embeddings, Tensor? scoringMask)
        {
            var squares = linalg.vector_norm(embeddings, 1, [-1]).pow(2);
            return stack([squares.sum().to(ScalarType.Float64), tensor((double)squares.numel(), ScalarType.Float64)]);
        }

        protected override Tensor ComputeShare(Tensor embeddings, Tensor? scoringMask, Tensor totalStatistics, long totalRows)
            => linalg.vector_norm(embeddings, 1, [-1]).pow(2).sum().div(totalStatistics[1].to(embeddings.dtype));
    }
}
