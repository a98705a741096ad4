using FluentAssertions;
using SparseRetrieval;
using Xunit;

namespace Samples.Tests.SparseRetrieval;

/// <summary>The SparseRetrieval sample's command line as a new user types it: every option alone and in combination.</summary>
public sealed class CommandLineTests
{
    private static (int ExitCode, SampleOptions? Options, int Threads, string Errors) Parse(string arguments)
        => Parse(arguments.Length == 0 ? [] : arguments.Split(' '));

    /// <summary>Parses as the sample's Main does; the run only records what it was given.</summary>
    private static (int ExitCode, SampleOptions? Options, int Threads, string Errors) Parse(string[] arguments)
    {
        SampleOptions? options = null;
        var threads = 0;
        var result = SampleCommand.Create((o, t) =>
        {
            options = o;
            threads = t;
            return 0;
        }).Parse(arguments);
        var errors = string.Join(" | ", result.Errors.Select(e => e.Message));
        return (result.Errors.Count == 0 ? result.Invoke() : 1, options, threads, errors);
    }

    [Fact]
    public void The_defaults_train_fixed_weights()
    {
        var (code, options, threads, errors) = Parse("");
        errors.Should().BeEmpty();
        code.Should().Be(0);
        options!.BatchSize.Should().Be(32);
        options.Steps.Should().Be(600);
        options.Budgeted.Should().BeFalse();
        options.Accumulates.Should().BeFalse();
        threads.Should().Be(Environment.ProcessorCount);
        Program.Plans(options).Select(p => p.Name).Should().Equal("no regularization", "FLOPS λ=0.1/0.2");
    }

    [Theory]
    [InlineData("--micro-batch 8")]
    [InlineData("--micro-batch 32")]
    [InlineData("--batch-size 64 --micro-batch 8")]
    [InlineData("--micro-batch 8 --batch-size 64")]
    [InlineData("--batch-size 64 --micro-batch 8 --split PerPart")]
    public void Micro_batches_up_to_the_batch_size_are_accepted_whatever_the_order(string arguments)
    {
        var (code, options, _, errors) = Parse(arguments);
        errors.Should().BeEmpty();
        code.Should().Be(0);
        options!.MicroBatch.Should().Be(8 * (arguments.Contains("32", StringComparison.Ordinal) ? 4 : 1));
    }

    [Theory]
    [InlineData("--micro-batch 33", "--micro-batch (33) must not exceed --batch-size (32).")]
    [InlineData("--batch-size 4 --micro-batch 8", "--micro-batch (8) must not exceed --batch-size (4).")]
    [InlineData("--micro-batch 0", "--micro-batch must be a positive number of rows.")]
    [InlineData("--batch-size 1", "--batch-size must be between 2 and 1000")]
    [InlineData("--steps 0", "--steps must be a positive number of steps.")]
    [InlineData("--doc-weight -1", "--doc-weight must be a finite number ≥ 0.")]
    [InlineData("--query-weight NaN", "--query-weight must be a finite number ≥ 0.")]
    [InlineData("--warmup 1.5", "--warmup must be a fraction between 0 and 1.")]
    [InlineData("--eval-every 0", "--eval-every must be a positive number of steps.")]
    [InlineData("--threads 0", "--threads must be at least 1.")]
    [InlineData("--device cuda", "--device must be cpu, or cuda on a machine with a GPU")]
    [InlineData("--doc-l0 0", "--doc-l0 targets must be numbers > 0 and at most the vocabulary's 2000 terms.")]
    [InlineData("--doc-l0 50 2001", "--doc-l0 targets must be numbers > 0")]
    [InlineData("--query-l0 -3", "--query-l0 must be a number > 0 and at most the vocabulary's 2000 terms.")]
    [InlineData("--recipe Direct", "--recipe says how a sparsity budget comes in: give one with --doc-l0 or --query-l0.")]
    public void Bad_values_and_combinations_say_what_is_wrong(string arguments, string message)
    {
        var (code, options, _, errors) = Parse(arguments);
        code.Should().NotBe(0);
        options.Should().BeNull("nothing runs");
        errors.Should().Contain(message);
    }

    [Fact]
    public void Budgets_give_one_run_per_document_target_and_recipe()
    {
        var (_, options, _, errors) = Parse("--doc-l0 30 100 300");
        errors.Should().BeEmpty();
        options!.Budgeted.Should().BeTrue();
        Program.Plans(options).Select(p => p.Name).Should().Equal(
            "no regularization", "budget d=30 (TargetWarmup)", "budget d=100 (TargetWarmup)", "budget d=300 (TargetWarmup)");

        (_, options, _, errors) = Parse("--doc-l0 100 --query-l0 20 --recipe Direct WeightWarmup");
        errors.Should().BeEmpty();
        var plans = Program.Plans(options!);
        plans.Select(p => p.Name).Should().Equal("no regularization", "budget d=100 q=20 (Direct)", "budget d=100 q=20 (WeightWarmup)");
        plans[2].Recipe.Should().Be(BudgetRecipe.WeightWarmup);
        plans[2].QueryL0.Should().Be(20);

        (_, options, _, _) = Parse("--query-l0 20");
        Program.Plans(options!).Select(p => p.Name).Should().Equal("no regularization", "budget q=20 (TargetWarmup)");
        options!.WarmupSteps.Should().Be(200);
    }

    [Fact]
    public void A_blank_output_folder_is_refused()
    {
        var (code, options, _, errors) = Parse(["--output", " "]);
        code.Should().NotBe(0);
        options.Should().BeNull();
        errors.Should().Contain("--output must name a folder.");
    }
}
