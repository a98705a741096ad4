using FluentAssertions;
using PackageSearch;
using Xunit;

namespace PackageSearch.Tests;

/// <summary>The PackageSearch sample's refusals, run as a user runs it: each returns before any training.</summary>
public sealed class CommandLineTests
{
    private static int Run(params string[] arguments) => Program.Main(arguments);

    [Fact]
    public void Description_lists_that_are_empty_binary_or_hold_no_usable_description_exit_with_code_2()
    {
        var folder = Directory.CreateTempSubdirectory().FullName;
        var empty = Path.Combine(folder, "empty");
        File.WriteAllText(empty, "");
        var binary = Path.Combine(folder, "binary");
        File.WriteAllBytes(binary, Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 256)).ToArray());
        var fakeLz4 = Path.Combine(folder, "list.lz4");
        File.WriteAllBytes(fakeLz4, Enumerable.Range(0, 512).Select(i => (byte)(i * 11 % 256)).ToArray());
        var shortOnes = Path.Combine(folder, "short");
        File.WriteAllText(shortOnes, "Package: a\nDescription-md5: 0\nDescription-en: a tool\n too short\n\n");
        foreach (var file in new[] { empty, binary, fakeLz4, shortOnes })
        {
            Run("--corpus-file", file, "--output", folder).Should().Be(2, file);
        }

        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Budgets_in_a_run_without_a_budgeted_model_and_model_numbers_beyond_the_run_exit_with_code_2()
    {
        ModelPlan.Plans(ModelPlan.DefaultDocBudgets, ModelPlan.DefaultCosts).Should().HaveCount(4 + ModelPlan.DefaultDocBudgets.Count + ModelPlan.DefaultCosts.Count);
        Run("--models", "1", "2", "--doc-l0", "20").Should().Be(2);
        Run("--models", "3", "--query-l0", "5").Should().Be(2);
        Run("--models", "8", "--query-l0", "5").Should().Be(2, "a query L0 budget goes with a document budget, not a FLOPS budget");
        Run("--models", "5", "--cost", "1.2").Should().Be(2, "model 5 has a document budget, not a FLOPS budget");
        Run("--cost", "0").Should().Be(1, "a cost is a positive multiple of BM25's");
        Run("--models", "99").Should().Be(2);
        Run("--doc-l0", "0").Should().Be(1, "a bad value is a parse error");
        // 3,000 documents less 1,178 held-out, 300 validation and 512 frequency-sample ones leave 1,010 training pairs.
        Run("--quick", "--max-documents", "3000", "--queries", "1178", "--batch-size", "1024").Should().Be(2, "a batch of distinct queries cannot outnumber the training pairs");
    }
}
