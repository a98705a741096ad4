using System.CommandLine;
using System.Globalization;
using LightningIr.Regularization;
using Spectre.Console;

using SampleSupport;

namespace SparseRetrieval;

/// <summary>
/// Trains a small SPLADE-style sparse retriever twice on a synthetic collection — without regularization and
/// with FLOPS regularization under a quadratic warmup — and shows how much sparser the documents become
/// and what that costs in MRR@10.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => 600 };
        var queryWeight = new Option<double>("--query-weight") { Description = "FLOPS weight λq of the query vectors.", DefaultValueFactory = _ => 0.1 };
        var docWeight = new Option<double>("--doc-weight") { Description = "FLOPS weight λd of the document vectors.", DefaultValueFactory = _ => 0.2 };
        var warmup = new Option<double>("--warmup") { Description = "Fraction of the steps over which λ warms up quadratically from 0.", DefaultValueFactory = _ => 1.0 / 3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the collection, the initial weights and the batches.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Folder for evaluations.csv and sparsity.png.", DefaultValueFactory = _ => Path.Combine("out", "sparse-retrieval") };
        var evaluateEvery = new Option<int>("--eval-every") { Description = "Steps between evaluations.", DefaultValueFactory = _ => 50 };
        var batchSize = new Option<int>("--batch-size") { Description = "Queries (and their documents) per training batch.", DefaultValueFactory = _ => 32 };
        var microBatch = new Option<int?>("--micro-batch") { Description = "Process each batch in micro-batches of this size (gradient accumulation); default: the whole batch at once." };
        var split = new Option<RegularizationSplit>("--split") { Description = "With micro-batches: Exact (each adds its exact share of the batch's FLOPS) or PerPart (each regularizes itself, as other frameworks do).", DefaultValueFactory = _ => RegularizationSplit.Exact };
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
        threads.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--threads must be at least 1."));
        device.Validators.Add(r => Check(
            r.GetValueOrDefault<string>() is "cpu" || (r.GetValueOrDefault<string>() is "cuda" && TorchSharp.torch.cuda.is_available()),
            r,
            "--device must be cpu, or cuda on a machine with a GPU and TorchSharp's CUDA backend (this one has none)."));

        var root = new RootCommand("Trains a SPLADE-style sparse retriever with and without FLOPS regularization (LightningIr.Regularization sample).")
        {
            steps, queryWeight, docWeight, warmup, seed, output, evaluateEvery, batchSize, microBatch, split, threads, device,
        };
        root.Validators.Add(r =>
        {
            if (r.GetValue(microBatch) is int micro && micro > r.GetValue(batchSize))
            {
                r.AddError($"--micro-batch ({micro}) must not exceed --batch-size ({r.GetValue(batchSize)}).");
            }
        });
        root.SetAction(parsed => Run(new SampleOptions(
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
            parsed.GetValue(device)!), parsed.GetValue(threads)));
        return root.Parse(args).Invoke();
    }

    private static bool IsWeight(double value) => double.IsFinite(value) && value >= 0;

    private static void Check(bool ok, System.CommandLine.Parsing.OptionResult result, string message)
    {
        if (!ok)
        {
            result.AddError(message);
        }
    }

    private static int Run(SampleOptions options, int threads)
    {
        TorchSharp.torch.set_num_threads(threads);
        Directory.CreateDirectory(options.Output);
        var data = new SyntheticCorpus(options.Seed);
        AnsiConsole.MarkupLine(
            $"[bold]Synthetic collection[/] seed {options.Seed}: {data.DocumentCount} documents of {data.DocumentLength} tokens, " +
            $"{data.EvaluationTargets.Length} held-out queries of {data.QueryLength} tokens, vocabulary {data.VocabularySize}.");
        AnsiConsole.MarkupLine(
            $"Two runs of {options.Steps} steps: no regularization, and FLOPS with λq = {options.QueryWeight:G3}, λd = {options.DocWeight:G3} " +
            $"after a quadratic warmup over {options.WarmupRatio:P0} of the steps; batches of {options.BatchSize}" +
            (options.Accumulates ? $" in micro-batches of {options.MicroBatch} ({options.Split} regularization)." : "."));

        var baselineName = "no regularization";
        var regularizedName = $"FLOPS λ={options.QueryWeight:G2}/{options.DocWeight:G2}";
        List<Evaluation> baseline = [];
        List<Evaluation> regularized = [];
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                baseline = TrainWithProgress(context, baselineName, data, options, null);
                regularized = TrainWithProgress(context, regularizedName, data, options, new FlopsRegularization(options.QueryWeight, options.DocWeight));
            });

        AnsiConsole.Write(Report.SideBySide(baseline[^1], regularized[^1]));
        var csv = Report.WriteCsv(options.Output, baseline.Concat(regularized));
        var chart = Report.WriteChart(options.Output, baseline, regularized);
        var sparser = baseline[^1].DocL0 / Math.Max(regularized[^1].DocL0, 1e-9);
        var mrrChange = (regularized[^1].Mrr10 - baseline[^1].Mrr10) / baseline[^1].Mrr10;
        AnsiConsole.MarkupLine(
            $"Documents are [bold]{sparser.ToString("F1", CultureInfo.InvariantCulture)}× sparser[/] with FLOPS regularization; MRR@10 changes by [bold]{mrrChange.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture)}[/].");
        AnsiConsole.MarkupLine($"Wrote [link]{Markup.Escape(Path.GetFullPath(csv))}[/] and [link]{Markup.Escape(Path.GetFullPath(chart))}[/].");
        return 0;
    }

    private static List<Evaluation> TrainWithProgress(ProgressContext context, string name, SyntheticCorpus data, SampleOptions options, FlopsRegularization? flops)
    {
        var task = context.AddTask(Markup.Escape(name), maxValue: options.Steps);
        return Trainer.Run(
            name,
            data,
            options,
            flops,
            step => task.Value = step,
            e => AnsiConsole.MarkupLine(
                $"  step {e.Step,5}  MRR@10 {e.Mrr10:F3}  L0 q {e.QueryL0,6:F1} d {e.DocL0,6:F1}  FLOPS {e.Flops,7:F1}  λd {e.RegularizerWeight:G2}"));
    }
}
