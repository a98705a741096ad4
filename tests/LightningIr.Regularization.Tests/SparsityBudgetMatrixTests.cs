using LightningIr.Regularization.TestSupport;

namespace LightningIr.Regularization.Tests;

/// <summary>
/// The budget's defaults on the closed-loop matrix of <see cref="ClosedLoop.Matrix"/>: 24 trainings across losses,
/// optimizers and learning rates, starting λ from 1e-6 to 1, ranking scales, targets on both sides and FLOPS targets. The
/// guide publishes the same table (<c>benchmarks -- budget-matrix</c>). Excluded from mutation testing (about 20 s).
/// </summary>
public sealed class SparsityBudgetMatrixTests
{
    [Fact]
    public void The_defaults_hit_at_least_23_of_the_24_closed_loop_trainings()
    {
        var threads = get_num_threads();
        var verdicts = new List<ClosedLoopVerdict>[ClosedLoop.Matrix.Count];
        try
        {
            Parallel.For(0, ClosedLoop.Matrix.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                set_num_threads(1);
                verdicts[i] = ClosedLoop.Judge(ClosedLoop.Run(ClosedLoop.Matrix[i]));
            });
        }
        finally
        {
            set_num_threads(threads);
        }

        var misses = ClosedLoop.Matrix.Zip(verdicts).Where(p => !p.Second.TrueForAll(v => v.Hit)).Select(p => $"{p.First}: {string.Join("; ", p.Second)}").ToList();
        misses.Count.Should().BeLessThanOrEqualTo(1, string.Join(Environment.NewLine, misses));
    }
}
