using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace LightningIr.Regularization.Benchmarks;

/// <summary>
/// A sparsity budget's update at SPLADE shapes against one forward+backward of the regularizer it drives, in one run:
/// an L0 budget on both sides (one whole-tensor count per side), a FLOPS budget (per-term counts), and the measurement
/// alone (no host read).
/// </summary>
public class BudgetBenchmarks : LossBenchmark
{
    private SparsityBudget l0Budget = null!;
    private SparsityBudget flopsBudget = null!;

    [GlobalSetup]
    public void Setup()
    {
        Prepare([32, 1, 30522], [256, 1, 30522]);
        l0Budget = new SparsityBudget(Regularizer, queryL0: 30, docL0: 200);
        flopsBudget = new SparsityBudget(Regularizer, flops: 5);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Budget")]
    public void Regularizer_ForwardBackward() => RegularizerForwardBackward();

    [Benchmark, BenchmarkCategory("Budget")]
    public void L0Budget_Update() => l0Budget.Update(Output);

    [Benchmark, BenchmarkCategory("Budget")]
    public void L0Budget_Measure()
    {
        using var scope = NewDisposeScope();
        l0Budget.Measure(Output);
    }

    [Benchmark, BenchmarkCategory("Budget")]
    public void FlopsBudget_Update() => flopsBudget.Update(Output);
}
