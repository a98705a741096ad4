using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>
/// Trains a small SPLADE-style sparse retriever on a synthetic collection without regularization and with FLOPS
/// regularization (fixed weights under a quadratic warmup, or sparsity budgets), and shows how much sparser the
/// documents become and what that costs in MRR@10.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => SampleCommand.Create(Run).Parse(args).Invoke();

    private static int Run(SampleOptions options, int threads)
    {
        TorchSharp.torch.set_num_threads(threads);
        Directory.CreateDirectory(options.Output);
        var data = new SyntheticCorpus(options.Seed);
        AnsiConsole.MarkupLine(
            $"[bold]Synthetic collection[/] seed {options.Seed}: {data.DocumentCount} documents of {data.DocumentLength} tokens, " +
            $"{data.EvaluationTargets.Length} held-out queries of {data.QueryLength} tokens, vocabulary {data.VocabularySize}.");
        var plans = Plans(options);
        AnsiConsole.MarkupLine(
            $"{plans.Count} runs of {options.Steps} steps from the same initial weights: {Markup.Escape(string.Join("; ", plans.Select(p => p.Name)))}. " +
            $"Batches of {options.BatchSize}" + (options.Accumulates ? $" in micro-batches of {options.MicroBatch} ({options.Split} regularization)." : "."));

        var results = new List<RunResult>();
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                foreach (var plan in plans)
                {
                    var task = context.AddTask(Markup.Escape(plan.Name), maxValue: options.Steps);
                    results.Add(Trainer.Run(
                        plan,
                        data,
                        options,
                        step => task.Value = step,
                        e => AnsiConsole.MarkupLine(
                            $"  step {e.Step,5}  MRR@10 {e.Mrr10:F3}  L0 q {e.QueryL0,6:F1} d {e.DocL0,6:F1}  FLOPS {e.Flops,7:F1}  λq {e.QueryWeight:G2} λd {e.DocWeight:G2}")));
                }
            });

        var baseline = results[0].Evaluations;
        var csv = Report.WriteCsv(options.Output, results.SelectMany(r => r.Evaluations));
        var chart = Report.WriteChart(options.Output, results);
        var written = new List<string> { csv, chart };
        if (options.Budgeted)
        {
            AnsiConsole.Write(Report.BudgetTable(baseline[^1], results.Skip(1).ToList()));
            written.Add(Report.WriteBudgetCsv(options.Output, results.Skip(1)));
            written.Add(Report.WriteBudgetChart(options.Output, results.Skip(1).ToList()));
        }
        else
        {
            var regularized = results[1].Evaluations;
            AnsiConsole.Write(Report.SideBySide(baseline[^1], regularized[^1]));
            var sparser = baseline[^1].DocL0 / Math.Max(regularized[^1].DocL0, 1e-9);
            var mrrChange = (regularized[^1].Mrr10 - baseline[^1].Mrr10) / baseline[^1].Mrr10;
            AnsiConsole.MarkupLine(
                $"Documents are [bold]{sparser.ToString("F1", CultureInfo.InvariantCulture)}× sparser[/] with FLOPS regularization; MRR@10 changes by [bold]{mrrChange.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture)}[/].");
        }

        AnsiConsole.MarkupLine("Wrote " + string.Join(", ", written.Select(w => $"[link]{Markup.Escape(Path.GetFullPath(w))}[/]")) + ".");
        return 0;
    }

    /// <summary>The baseline, then either the fixed-λ FLOPS run or one budgeted run per document target and recipe.</summary>
    public static List<RunPlan> Plans(SampleOptions options)
    {
        var plans = new List<RunPlan> { new("no regularization", Regularized: false) };
        if (!options.Budgeted)
        {
            plans.Add(new RunPlan($"FLOPS λ={options.QueryWeight:G2}/{options.DocWeight:G2}", Regularized: true));
            return plans;
        }

        var docTargets = options.DocL0 is { Count: > 0 } targets ? targets.Select(t => (double?)t).ToList() : [null];
        foreach (var docTarget in docTargets)
        {
            foreach (var recipe in options.Recipes ?? [BudgetRecipe.TargetWarmup])
            {
                var name = "budget" + (docTarget is double d ? $" d={d:G4}" : string.Empty) + (options.QueryL0 is double q ? $" q={q:G4}" : string.Empty) + $" ({recipe})";
                plans.Add(new RunPlan(name, Regularized: true, docTarget, options.QueryL0, recipe));
            }
        }

        return plans;
    }
}

/// <summary>The sample's command line: its options, their checks, and the settings they give.</summary>
public static class SampleCommand
{
    /// <summary>The synthetic collection's vocabulary, which bounds the L0 targets.</summary>
    public const int Vocabulary = 2000;

    /// <summary>The root command; <paramref name="run"/> receives the checked settings and the thread count.</summary>
    public static RootCommand Create(Func<SampleOptions, int, int> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => 600 };
        var queryWeight = new Option<double>("--query-weight") { Description = "FLOPS weight λq of the query vectors (with budgets: the weight they start from).", DefaultValueFactory = _ => 0.1 };
        var docWeight = new Option<double>("--doc-weight") { Description = "FLOPS weight λd of the document vectors (with budgets: the weight they start from).", DefaultValueFactory = _ => 0.2 };
        var warmup = new Option<double>("--warmup") { Description = "Fraction of the steps over which λ (or a budget's target) warms up.", DefaultValueFactory = _ => 1.0 / 3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the collection, the initial weights and the batches.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Folder for the CSV files and charts.", DefaultValueFactory = _ => Path.Combine("out", "sparse-retrieval") };
        var evaluateEvery = new Option<int>("--eval-every") { Description = "Steps between evaluations.", DefaultValueFactory = _ => 50 };
        var batchSize = new Option<int>("--batch-size") { Description = "Queries (and their documents) per training batch.", DefaultValueFactory = _ => SampleOptions.DefaultBatchSize };
        var microBatch = new Option<int?>("--micro-batch") { Description = "Process each batch in micro-batches of this size (gradient accumulation); default: the whole batch at once." };
        var split = new Option<RegularizationSplit>("--split") { Description = "With micro-batches: Exact (each adds its exact share of the batch's FLOPS) or PerPart (each regularizes itself, as other frameworks do).", DefaultValueFactory = _ => RegularizationSplit.Exact };
        var docL0 = new Option<double[]>("--doc-l0") { Description = "Document sparsity budgets: train one run per target, each reaching this mean number of terms per document.", AllowMultipleArgumentsPerToken = true };
        var queryL0 = new Option<double?>("--query-l0") { Description = "A query sparsity budget: the mean number of terms per query." };
        var recipe = new Option<BudgetRecipe[]>("--recipe") { Description = "How budgets come in: TargetWarmup (default), Direct or WeightWarmup; several run side by side.", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "TorchSharp's CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = new Option<string>("--device") { Description = "Device to train on: cpu, or cuda when a CUDA backend and GPU are present.", DefaultValueFactory = _ => "cpu" };

        steps.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--steps must be a positive number of steps."));
        queryWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--query-weight must be a finite number ≥ 0."));
        docWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--doc-weight must be a finite number ≥ 0."));
        warmup.Validators.Add(r => Check(r.GetValueOrDefault<double>() is >= 0 and <= 1, r, "--warmup must be a fraction between 0 and 1."));
        evaluateEvery.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--eval-every must be a positive number of steps."));
        output.Validators.Add(r => Check(!string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()), r, "--output must name a folder."));
        batchSize.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 2 and <= 1000, r, "--batch-size must be between 2 and 1000 (the in-batch negatives need at least 2)."));
        microBatch.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or > 0, r, "--micro-batch must be a positive number of rows."));
        docL0.Validators.Add(r => Check(r.GetValueOrDefault<double[]>()?.All(IsTarget) ?? true, r, $"--doc-l0 targets must be numbers > 0 and at most the vocabulary's {Vocabulary} terms."));
        queryL0.Validators.Add(r => Check(r.GetValueOrDefault<double?>() is not double q || IsTarget(q), r, $"--query-l0 must be a number > 0 and at most the vocabulary's {Vocabulary} terms."));
        threads.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--threads must be at least 1."));
        device.Validators.Add(r => Check(
            r.GetValueOrDefault<string>() is "cpu" || (r.GetValueOrDefault<string>() is "cuda" && TorchSharp.torch.cuda.is_available()),
            r,
            "--device must be cpu, or cuda on a machine with a GPU and TorchSharp's CUDA backend (this one has none)."));

        var root = new RootCommand("Trains a SPLADE-style sparse retriever with and without FLOPS regularization (LightningIr.Regularization sample).")
        {
            steps, queryWeight, docWeight, warmup, seed, output, evaluateEvery, batchSize, microBatch, split, docL0, queryL0, recipe, threads, device,
        };
        root.Validators.Add(r =>
        {
            // A command's validator sees only the options that were typed: an option left at its default has no result yet.
            var batch = r.GetResult(batchSize) is null ? SampleOptions.DefaultBatchSize : r.GetValue(batchSize);
            if (r.GetValue(microBatch) is int micro && micro > batch)
            {
                r.AddError($"--micro-batch ({micro}) must not exceed --batch-size ({batch}).");
            }

            if (r.GetResult(recipe) is not null && r.GetResult(docL0) is null && r.GetResult(queryL0) is null)
            {
                r.AddError("--recipe says how a sparsity budget comes in: give one with --doc-l0 or --query-l0.");
            }
        });
        root.SetAction(parsed => run(
            new SampleOptions(
                parsed.GetValue(steps),
                parsed.GetValue(queryWeight),
                parsed.GetValue(docWeight),
                parsed.GetValue(warmup),
                parsed.GetValue(seed),
                parsed.GetValue(output)!,
                parsed.GetValue(evaluateEvery),
                parsed.GetValue(batchSize),
                parsed.GetValue(microBatch),
                parsed.GetValue(split),
                parsed.GetValue(device)!,
                DocL0: parsed.GetValue(docL0),
                QueryL0: parsed.GetValue(queryL0),
                Recipes: parsed.GetValue(recipe) is { Length: > 0 } recipes ? recipes : null),
            parsed.GetValue(threads)));
        return root;
    }

    private static bool IsWeight(double value) => double.IsFinite(value) && value >= 0;

    private static bool IsTarget(double value) => value > 0 && value <= Vocabulary;

    private static void Check(bool ok, OptionResult result, string message)
    {
        if (!ok)
        {
            result.AddError(message);
        }
    }
}
