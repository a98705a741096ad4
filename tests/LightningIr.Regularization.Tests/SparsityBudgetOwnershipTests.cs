namespace LightningIr.Regularization.Tests;

/// <summary>Who sets λ once a budget steers it, how a FLOPS target measures its queries, and which saved states load.</summary>
public sealed class SparsityBudgetOwnershipTests
{
    private const int Length = 100;

    private static BiEncoderOutput Batch(int queryL0, int docL0) =>
        TestLosses.Output(SparsityBudgetTests.WithNonZeros(queryL0, queryL0), SparsityBudgetTests.WithNonZeros(docL0, docL0));

    [Fact]
    public void After_its_first_update_a_budget_owns_the_weights_it_steers_and_refuses_other_writers_by_name()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, docL0: 10);
        flops.DocWeight = 2e-3;  // before the first update the weights are the user's
        budget.Update(Batch(5, 40));
        var steered = flops.DocWeight;
        FluentActions.Invoking(() => flops.DocWeight = 1).Should().Throw<InvalidOperationException>()
            .WithMessage("DocWeight is steered by SparsityBudget(queryL0 none, docL0 10, flops none), which owns it since its first update*");
        var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 10);
        FluentActions.Invoking(() => schedule.Step(3)).Should().Throw<InvalidOperationException>().WithMessage("DocWeight is steered*");
        flops.DocWeight.Should().Be(steered, "a refused write changes nothing");
        flops.QueryWeight.Should().Be(1e-3, "the schedule writes neither weight when one is refused");
        flops.QueryWeight = 5e-3;
        flops.QueryWeight.Should().Be(5e-3, "λq has no target: it stays the user's");
        budget.Update(Batch(5, 40));
        flops.QueryWeight.Should().Be(5e-3, "the budget leaves a side it does not steer as it finds it");
    }

    [Fact]
    public void A_side_steered_by_one_budget_is_refused_to_another_and_disjoint_sides_share_a_regularizer()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var documents = new SparsityBudget(flops, docL0: 10);
        var queries = new SparsityBudget(flops, queryL0: 3);
        documents.Update(Batch(5, 40));
        queries.Update(Batch(5, 40));
        queries.Update(Batch(5, 40));
        flops.QueryWeight.Should().NotBe(1e-3, "the query budget steers λq");
        var both = new SparsityBudget(flops, flops: 1);
        FluentActions.Invoking(() => both.Update(Batch(5, 40))).Should().Throw<InvalidOperationException>()
            .WithMessage("This FlopsRegularization's QueryWeight is already steered by SparsityBudget(queryL0 3, docL0 none, flops none); SparsityBudget(queryL0 none, docL0 none, flops 1) cannot steer it too*");
        both.Step.Should().Be(0);
        FluentActions.Invoking(() => both.LoadState(queries.State with { Settings = both.State.Settings, QueryL0 = null })).Should().Throw<InvalidOperationException>();
        var fresh = new FlopsRegularization(1e-3, 1e-3);
        var loaded = new SparsityBudget(fresh, docL0: 10);
        loaded.LoadState(documents.State);
        FluentActions.Invoking(() => fresh.DocWeight = 1).Should().Throw<InvalidOperationException>("loading a state takes the side over too");
        fresh.QueryWeight = 1;
        fresh.QueryWeight.Should().Be(1);
    }

    [Fact]
    public void A_query_budget_owns_lambda_q_alone_and_loading_a_state_sets_only_the_steered_sides()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var queries = new SparsityBudget(flops, queryL0: 3);
        queries.Update(Batch(5, 40));
        FluentActions.Invoking(() => flops.QueryWeight = 1).Should().Throw<InvalidOperationException>().WithMessage("QueryWeight is steered by SparsityBudget(queryL0 3, docL0 none, flops none)*");
        flops.DocWeight = 4e-3;
        flops.DocWeight.Should().Be(4e-3, "λd has no target");
        var second = new SparsityBudget(flops, queryL0: 4);
        FluentActions.Invoking(() => second.Update(Batch(5, 40))).Should().Throw<InvalidOperationException>()
            .WithMessage("This FlopsRegularization's QueryWeight is already steered by SparsityBudget(queryL0 3, *");
        var documents = new SparsityBudget(flops, docL0: 10);
        documents.Update(Batch(5, 40));
        var third = new SparsityBudget(flops, docL0: 12);
        FluentActions.Invoking(() => third.Update(Batch(5, 40))).Should().Throw<InvalidOperationException>()
            .WithMessage("This FlopsRegularization's DocWeight is already steered by SparsityBudget(queryL0 none, docL0 10, *");

        var fresh = new FlopsRegularization(1e-3, 2e-3);
        var loaded = new SparsityBudget(fresh, queryL0: 3);
        loaded.LoadState(queries.State with { QueryWeight = 0.5, DocWeight = 7 });
        fresh.QueryWeight.Should().Be(0.5);
        fresh.DocWeight.Should().Be(2e-3, "the state's λd is not this budget's to set");
        var docFresh = new FlopsRegularization(3e-3, 2e-3);
        var docLoaded = new SparsityBudget(docFresh, docL0: 10);
        docLoaded.LoadState(documents.State with { QueryWeight = 7, DocWeight = 0.25 });
        docFresh.QueryWeight.Should().Be(3e-3);
        docFresh.DocWeight.Should().Be(0.25);
    }

    [Fact]
    public void A_flops_target_with_every_query_masked_out_measures_nothing_and_keeps_its_controller()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3) { UseScoringMask = true };
        var budget = new SparsityBudget(flops, flops: 1);
        budget.Update(Batch(5, 40));
        budget.Update(Batch(5, 40));
        var before = budget.State;
        budget.Update(TestLosses.Output(SparsityBudgetTests.WithNonZeros(5, 5), SparsityBudgetTests.WithNonZeros(30, 30), queryMask: zeros(2, ScalarType.Bool)));
        budget.MeasuredFlops.Should().BeNull();
        budget.State.Flops.Should().Be(before.Flops);
        budget.State.QueryWeight.Should().Be(before.QueryWeight);
        budget.State.PreviousDocFractions![29].Should().Be(1, "the documents were measured, for the next queries");
    }

    [Fact]
    public void A_flops_target_measures_this_batchs_queries_against_the_previous_batchs_documents()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), flops: 1);
        var first = Batch(5, 40);
        var second = Batch(30, 10);
        budget.Update(first);
        budget.MeasuredFlops.Should().BeApproximately(SparsityMetrics.Flops(first.QueryEmbeddings!.Embeddings, first.DocEmbeddings!.Embeddings), 1e-12, "the first update has no earlier documents");
        budget.State.PreviousDocFractions.Should().HaveCount(Length);
        budget.State.PreviousDocFractions![39].Should().Be(1);
        budget.State.PreviousDocFractions[40].Should().Be(0);
        budget.Update(second);
        budget.MeasuredFlops.Should().BeApproximately(SparsityMetrics.Flops(second.QueryEmbeddings!.Embeddings, first.DocEmbeddings!.Embeddings), 1e-12);
        budget.MeasuredFlops.Should().NotBeApproximately(SparsityMetrics.Flops(second.QueryEmbeddings!.Embeddings, second.DocEmbeddings!.Embeddings), 1);
        var l0 = new SparsityBudget(new FlopsRegularization(), docL0: 10);
        l0.Update(first);
        l0.State.PreviousDocFractions.Should().BeNull("only a FLOPS target keeps them");
    }

    [Fact]
    public void The_plain_update_measures_queries_that_share_their_positives_terms_without_the_bias()
    {
        using var scope = NewDisposeScope();
        // Each document holds 20 random terms of 200, and its query 5 of them: against its own positive, every query term
        // matches one document of the batch for sure, and the figure is about twice the cost an index would see.
        const int terms = 200;
        const int batch = 8;
        var random = new Random(5);
        (Tensor Queries, Tensor Docs) Draw()
        {
            var queries = zeros(batch, terms);
            var docs = zeros(batch, terms);
            for (var i = 0; i < batch; i++)
            {
                var chosen = Enumerable.Range(0, terms).OrderBy(_ => random.Next()).Take(20).ToArray();
                foreach (var j in chosen)
                {
                    docs[i, j] = 1;
                }

                foreach (var j in chosen.Take(5))
                {
                    queries[i, j] = 1;
                }
            }

            return (queries, docs);
        }

        var budget = new SparsityBudget(new FlopsRegularization(), flops: 1);
        var (measured, own, independent) = (new List<double>(), new List<double>(), new List<double>());
        for (var step = 0; step < 200; step++)
        {
            using var stepScope = NewDisposeScope();
            var (queries, docs) = Draw();
            var (_, unrelated) = Draw();
            budget.Update(TestLosses.Output(queries, docs));
            own.Add(SparsityMetrics.Flops(queries, docs));
            independent.Add(SparsityMetrics.Flops(queries, unrelated));
            measured.Add(budget.MeasuredFlops!.Value);
        }

        own.Average().Should().BeGreaterThan(1.8 * independent.Average(), "the bias the budget must avoid");
        measured.Skip(1).Average().Should().BeApproximately(independent.Average(), 0.05 * independent.Average());
    }

    [Fact]
    public void A_flops_budgets_checkpoint_carries_the_document_fractions_and_continues_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var batches = new[] { 60, 45, 30, 22, 17, 25 }.Select(l0 => Batch(l0 / 3, l0)).ToArray();
        var uninterrupted = new FlopsRegularization(1e-3, 1e-3);
        var reference = new SparsityBudget(uninterrupted, flops: 2);
        foreach (var batch in batches)
        {
            reference.Update(batch);
        }

        var before = new SparsityBudget(new FlopsRegularization(1e-3, 1e-3), flops: 2);
        foreach (var batch in batches[..3])
        {
            before.Update(batch);
        }

        var saved = System.Text.Json.JsonSerializer.Serialize(before.State);
        var resumed = new FlopsRegularization(5, 5);
        var after = new SparsityBudget(resumed, flops: 2);
        after.LoadState(System.Text.Json.JsonSerializer.Deserialize<SparsityBudgetState>(saved)!);
        after.State.PreviousDocFractions.Should().Equal(before.State.PreviousDocFractions);
        foreach (var batch in batches[3..])
        {
            after.Update(batch);
        }

        after.MeasuredFlops.Should().Be(reference.MeasuredFlops);
        after.State.Flops.Should().Be(reference.State.Flops);
        after.State.PreviousDocFractions.Should().Equal(reference.State.PreviousDocFractions);
        resumed.QueryWeight.Should().Be(uninterrupted.QueryWeight);
        resumed.DocWeight.Should().Be(uninterrupted.DocWeight);
    }

    [Fact]
    public void A_state_of_another_control_law_or_with_document_fractions_it_cannot_use_is_refused()
    {
        using var scope = NewDisposeScope();
        var l0 = new SparsityBudget(new FlopsRegularization(), docL0: 10);
        l0.Update(Batch(5, 40));
        l0.State.LawVersion.Should().Be(SparsityBudgetState.CurrentLawVersion);
        FluentActions.Invoking(() => l0.LoadState(l0.State with { LawVersion = 0 })).Should().Throw<ArgumentException>()
            .WithMessage("The state was saved by control law version 0 (a budget from before the law was versioned), but this budget runs version 4*");
        FluentActions.Invoking(() => l0.LoadState(l0.State with { LawVersion = 2 })).Should().Throw<ArgumentException>()
            .WithMessage("The state was saved by control law version 2, but*", "a state of an earlier law (a reference walked at a pace) is refused");
        FluentActions.Invoking(() => l0.LoadState(l0.State with { LawVersion = 3 })).Should().Throw<ArgumentException>()
            .WithMessage("The state was saved by control law version 3, but*", "a state of the previous law keeps no hold for its status");
        FluentActions.Invoking(() => l0.LoadState(l0.State with { PreviousDocFractions = new double[Length] })).Should().Throw<ArgumentException>()
            .WithMessage("*document fractions in [0, 1] only for a FLOPS target*");
        var flops = new SparsityBudget(new FlopsRegularization(), flops: 1);
        flops.Update(Batch(5, 40));
        foreach (var bad in new[] { -0.1, 1.1, double.NaN })
        {
            var fractions = flops.State.PreviousDocFractions!.ToArray();
            fractions[3] = bad;
            FluentActions.Invoking(() => flops.LoadState(flops.State with { PreviousDocFractions = fractions })).Should().Throw<ArgumentException>();
        }

        flops.LoadState(flops.State with { PreviousDocFractions = null });
        flops.Update(Batch(5, 40));
        flops.Step.Should().Be(2, "a state without fractions measures the queries against their own batch once");
        var limit = Math.Log(80);
        foreach (var bad in new[] { double.NaN, limit + 1e-6, -limit - 1e-6 })
        {
            FluentActions.Invoking(() => flops.LoadState(flops.State with { Flops = flops.State.Flops! with { Rise = bad } })).Should().Throw<ArgumentException>($"a rise of {bad} is beyond the windup limit");
        }

        FluentActions.Invoking(() => flops.LoadState(flops.State with { Flops = flops.State.Flops! with { Velocity = double.PositiveInfinity } })).Should().Throw<ArgumentException>();
        flops.LoadState(flops.State with { Flops = flops.State.Flops! with { Rise = limit, Velocity = -0.5 } });
        flops.LoadState(flops.State with { Flops = flops.State.Flops! with { Rise = -limit } });
    }

    [Fact]
    public void A_budget_keeps_its_own_document_fractions_which_neither_its_reader_nor_its_loader_can_change()
    {
        using var scope = NewDisposeScope();
        var budget = new SparsityBudget(new FlopsRegularization(), flops: 1);
        budget.Update(Batch(5, 40));
        var read = (IList<double>)budget.State.PreviousDocFractions!;
        FluentActions.Invoking(() => read[0] = 0).Should().Throw<NotSupportedException>("the state hands out a read-only view");

        var loaded = budget.State.PreviousDocFractions!.ToArray();
        budget.LoadState(budget.State with { PreviousDocFractions = loaded });
        Array.Fill(loaded, 0.0);
        budget.Update(Batch(5, 3));
        budget.MeasuredFlops.Should().Be(5, "the queries' 5 terms meet the loaded documents' 40 (the caller's array emptied after the load would give 0, this batch's documents 3)");
    }

    [Fact]
    public void A_state_whose_document_fractions_are_of_another_vocabulary_is_refused_at_the_update_and_changes_nothing()
    {
        using var scope = NewDisposeScope();
        var flops = new FlopsRegularization(1e-3, 1e-3);
        var budget = new SparsityBudget(flops, flops: 1);
        budget.Update(Batch(5, 40));
        budget.LoadState(budget.State with { PreviousDocFractions = new double[Length + 1] });
        var before = budget.State;
        var weight = flops.QueryWeight;
        FluentActions.Invoking(() => budget.Update(Batch(5, 40))).Should().Throw<ArgumentException>()
            .WithMessage($"The budget's state holds the previous documents' fractions of {Length + 1} terms, but the measured vectors have {Length}: the state was saved for another vocabulary*");
        budget.State.Should().BeSameAs(before);
        flops.QueryWeight.Should().Be(weight);
        budget.LoadState(budget.State with { PreviousDocFractions = new double[Length - 1] });
        FluentActions.Invoking(() => budget.Update(Batch(5, 40))).Should().Throw<ArgumentException>("a shorter list would leave terms out of the figure");
    }
}
