using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// Trains a SPLADE-style sparse retriever on Debian's package descriptions three times (no regularization, FLOPS,
/// DF-FLOPS), serves each as a Lucene.NET impact index next to a BM25 index of the same documents, and reports quality
/// against cost: MRR@10, Recall@100, sparsity, posting lists, query latency and postings visited.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var quick = new Option<bool>("--quick") { Description = "A small run (under 3 minutes): 8,000 documents, 500 queries, 300 steps." };
        var corpusFiles = new Option<string[]>("--corpus-file") { Description = "Description list(s) in apt's Translation-en format, plain or .lz4; default: the lists apt has fetched.", AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model (default 1,500; --quick 300)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Queries per step; each brings its document and one BM25 hard negative, and every document of the batch is a negative for the other queries.", DefaultValueFactory = _ => 48 };
        var evaluationQueries = new Option<int?>("--queries") { Description = "Held-out queries (default 1,000; --quick 500)." };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Use at most this many documents after cleaning (default all; --quick 8,000)." };
        var queryL0 = new Option<double>("--query-l0") { Description = "The budgeted models' query budget: mean terms per query.", DefaultValueFactory = _ => 5 };
        var docL0 = new Option<double>("--doc-l0") { Description = "The budgeted models' document budget: mean terms per document.", DefaultValueFactory = _ => 60 };
        var queryWeight = new Option<double>("--query-weight") { Description = "FLOPS weight λq of the fixed-λ models (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 1e-3 };
        var docWeight = new Option<double>("--doc-weight") { Description = "FLOPS weight λd of the fixed-λ models (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 1e-3 };
        var frequencyEvery = new Option<int>("--df-every") { Description = "DF-FLOPS re-estimates document frequencies every this many steps.", DefaultValueFactory = _ => 10 };
        var frequencyScale = new Option<double>("--df-scale") { Description = "The fixed-λ DF-FLOPS model uses λq and λd times this: its weights below 1 lower the total penalty.", DefaultValueFactory = _ => 3.0 };
        var alpha = new Option<double>("--alpha") { Description = "DF-FLOPS α: the document-frequency fraction at which a term pays half the FLOPS penalty.", DefaultValueFactory = _ => 0.1 };
        var beta = new Option<double>("--beta") { Description = "DF-FLOPS β: how sharply the penalty turns around α.", DefaultValueFactory = _ => 5.0 };
        var scale = new Option<float>("--quantization") { Description = "Impact quantization: weights are multiplied by this and rounded to integer term frequencies.", DefaultValueFactory = _ => 8f };
        var learningRate = new Option<double>("--learning-rate") { Description = "Adam's learning rate of the per-term factors and BM25's k1 and b (the shared embeddings and context layers learn 30 times slower).", DefaultValueFactory = _ => 3e-3 };
        var models = new Option<string[]>("--models") { Description = "Train only these models, by their number in the report (1 = the untrained start, 2 = FLOPS fixed λ, 3 = DF-FLOPS fixed λ, 4 = FLOPS budget, 5 = DF-FLOPS budget); default all.", AllowMultipleArgumentsPerToken = true };
        var validate = new Option<bool>("--validate") { Description = "Report on the validation queries (carved from the training packages) instead of the held-out ones: for tuning." };
        var seed = new Option<int>("--seed") { Description = "Seed of the splits, the initial weights and the batches.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Folder for results.csv and the charts.", DefaultValueFactory = _ => Path.Combine("out", "package-search") };
        var threads = new Option<int>("--threads") { Description = "TorchSharp's CPU threads for training and encoding (Lucene searches on one).", DefaultValueFactory = _ => Environment.ProcessorCount };

        steps.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or > 0, r, "--steps must be a positive number of steps."));
        batchSize.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 2 and <= 1024, r, "--batch-size must be between 2 and 1024 (the in-batch negatives need at least 2)."));
        evaluationQueries.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 10, r, "--queries must be at least 10."));
        maxDocuments.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 3000, r, "--max-documents must be at least 3,000."));
        queryL0.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--query-l0 must be a finite number > 0."));
        docL0.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--doc-l0 must be a finite number > 0."));
        queryWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--query-weight must be a finite number ≥ 0."));
        docWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--doc-weight must be a finite number ≥ 0."));
        frequencyScale.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--df-scale must be a finite number > 0."));
        frequencyEvery.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--df-every must be a positive number of steps."));
        alpha.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < 1, r, "--alpha must lie strictly between 0 and 1."));
        beta.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--beta must be a finite number > 0."));
        scale.Validators.Add(r => Check(r.GetValueOrDefault<float>() is >= 1 and <= 1000, r, "--quantization must be between 1 and 1,000."));
        output.Validators.Add(r => Check(!string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()), r, "--output must name a folder."));
        threads.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--threads must be at least 1."));
        learningRate.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < 1, r, "--learning-rate must lie between 0 and 1."));
        models.Validators.Add(r => Check(
            (r.GetValueOrDefault<string[]>() ?? []).All(m => int.TryParse(m, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= Plans.Count),
            r,
            $"--models takes model numbers from 1 to {Plans.Count}."));
        corpusFiles.Validators.Add(r =>
        {
            foreach (var file in r.GetValueOrDefault<string[]>() ?? [])
            {
                Check(File.Exists(file), r, $"--corpus-file: {file} does not exist.");
            }
        });

        var root = new RootCommand("Debian package search in Lucene.NET: a learned sparse retriever that starts at BM25, trained with FLOPS and DF-FLOPS at fixed λ and under sparsity budgets, against BM25 (LightningIr.Regularization sample).")
        {
            quick, corpusFiles, steps, batchSize, evaluationQueries, maxDocuments, queryL0, docL0, queryWeight, docWeight, frequencyEvery, frequencyScale, alpha, beta, scale, learningRate, models, validate, seed, output, threads,
        };
        root.SetAction(parsed =>
        {
            var isQuick = parsed.GetValue(quick);
            var corpus = new CorpusSettings(
                parsed.GetValue(seed),
                parsed.GetValue(evaluationQueries) ?? (isQuick ? 500 : 1000),
                isQuick ? 300 : 500,
                isQuick ? 512 : 1024,
                parsed.GetValue(maxDocuments) ?? (isQuick ? 8000 : null));
            var training = new TrainingSettings(
                parsed.GetValue(steps) ?? (isQuick ? 300 : 1500),
                parsed.GetValue(batchSize),
                HiddenSize: 32,
                parsed.GetValue(learningRate),
                parsed.GetValue(queryWeight),
                parsed.GetValue(docWeight),
                WarmupRatio: 1.0 / 3,
                parsed.GetValue(frequencyEvery),
                parsed.GetValue(frequencyScale),
                parsed.GetValue(alpha),
                parsed.GetValue(beta),
                parsed.GetValue(seed),
                parsed.GetValue(queryL0),
                parsed.GetValue(docL0));
            var chosen = parsed.GetValue(models) is { Length: > 0 } numbers
                ? numbers.Select(n => Plans[int.Parse(n, CultureInfo.InvariantCulture) - 1]).Distinct().ToList()
                : Plans;
            return Run(parsed.GetValue(corpusFiles) ?? [], corpus, training, chosen, parsed.GetValue(scale), parsed.GetValue(validate), parsed.GetValue(output)!, parsed.GetValue(threads));
        });
        return root.Parse(args).Invoke();
    }

    private static bool IsWeight(double value) => double.IsFinite(value) && value >= 0;

    private static void Check(bool ok, OptionResult result, string message)
    {
        if (!ok)
        {
            result.AddError(message);
        }
    }

    /// <summary>The models every run trains, in the order of the report.</summary>
    public static IReadOnlyList<ModelPlan> Plans { get; } =
    [
        new("BM25 start (untrained)", Regularization.Untrained, Budgeted: false),
        new("FLOPS, fixed λ", Regularization.Flops, Budgeted: false),
        new("DF-FLOPS, fixed λ", Regularization.DfFlops, Budgeted: false),
        new("FLOPS, budget", Regularization.Flops, Budgeted: true),
        new("DF-FLOPS, budget", Regularization.DfFlops, Budgeted: true),
    ];

    /// <summary>
    /// glibc maps every allocation above its mmap threshold fresh, and a fresh mapping page-faults on first touch; this
    /// sample's [batch, V] tensors are tens of MB, allocated and freed every step. Raising the threshold to its 32 MB
    /// maximum and keeping freed memory (benchmarks/README.md measures the same for the losses) serves them from the heap.
    /// </summary>
    private static void KeepLargeBlocksOnTheHeap()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = NativeMethods.mallopt(NativeMethods.MmapThreshold, 32 << 20);
                _ = NativeMethods.mallopt(NativeMethods.TrimThreshold, 1 << 30);
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (musl): nothing to tune.
            }
        }
    }

    private static int Run(
        string[] corpusFiles, CorpusSettings corpusSettings, TrainingSettings training, IReadOnlyList<ModelPlan> plans, float scale, bool validate, string output, int threads)
    {
        set_num_threads(threads);
        KeepLargeBlocksOnTheHeap();
        // An unregularized model's query can have thousands of terms; Lucene refuses more than 1,024 clauses by default.
        Lucene.Net.Search.BooleanQuery.MaxClauseCount = 100_000;
        var files = corpusFiles.Length > 0 ? corpusFiles : PackageDescriptions.AptFiles();
        if (files.Count == 0)
        {
            AnsiConsole.MarkupLine($"[red]No package description lists found in {PackageDescriptions.AptListsFolder}.[/] Fetch them with");
            AnsiConsole.MarkupLine($"  [bold]{Markup.Escape(PackageDescriptions.FetchCommand)}[/]");
            AnsiConsole.MarkupLine("or pass a file in that format with --corpus-file.");
            return 2;
        }

        Directory.CreateDirectory(output);
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 170); // the table's columns, in a log file
        }

        var clock = Stopwatch.StartNew();
        var packages = files.SelectMany(PackageDescriptions.Read).ToList();
        var cleaned = PackageDescriptions.Clean(packages, minimumWords: 20);
        KnownItemCorpus corpus;
        try
        {
            corpus = new KnownItemCorpus(cleaned, corpusSettings);
        }
        catch (InvalidOperationException e)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }

        var (docTerms, queryTerms) = corpus.MeanTerms;
        var targets = validate ? corpus.ValidationTargets : corpus.EvaluationTargets;
        AnsiConsole.MarkupLine(
            $"[bold]Debian package descriptions[/]: {packages.Count:N0} read from {files.Count} list(s), {cleaned.Count:N0} after removing near-duplicates and short ones; " +
            $"{corpus.Documents.Count:N0} documents, {corpus.EvaluationTargets.Length:N0} held-out and {corpus.ValidationTargets.Length:N0} validation queries, {corpus.TrainingTargets.Length:N0} training pairs. " +
            $"Vocabulary V = {corpus.VocabularySize:N0}: every term Lucene's standard analyzer finds in the documents and training queries (mean {docTerms:F1} distinct terms per document, {queryTerms:F1} per query), nothing truncated.");
        AnsiConsole.MarkupLine(
            $"Models: {plans.Count(p => p.Regularization != Regularization.Untrained)} trainings of {training.Steps} steps × {training.BatchSize} queries (plus the untrained start); fixed λq = {training.QueryWeight:G3}, λd = {training.DocWeight:G3} " +
            $"after a quadratic warmup over {training.WarmupRatio:P0}; budgets of {training.QueryL0:G3} terms per query and {training.DocL0:G3} per document with the target warmed up over {training.WarmupRatio:P0}. " +
            $"Reporting on the {(validate ? "validation" : "held-out")} queries.");

        var device = CPU;
        var settings = new List<SearchSetting>();
        var traces = new List<(string Name, List<BudgetStep> Trace)>();
        try
        {
            var miningSeconds = 0.0;
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var bm25Task = context.AddTask("BM25: indexing", maxValue: corpus.Documents.Count);
                    var bm25 = SearchIndex.Bm25(corpus.Documents, d => bm25Task.Value = d);
                    var bm25Queries = targets.Select(t => SearchIndex.Bm25Query(corpus.Documents[t].Synopsis)).ToArray();
                    // BM25's document L0 (distinct terms per document) is left to the evaluation, which reads it off the postings.
                    settings.Add(new SearchSetting("BM25", bm25, bm25Queries, null, bm25Queries.Average(q => ((Lucene.Net.Search.BooleanQuery)q).Clauses.Count), 0));

                    // Two stronger keyword baselines, for honesty: BM25 with Anserini's MS MARCO parameters, and with stemming.
                    foreach (var (name, k1, b, analyzer) in new (string, float, float, Lucene.Net.Analysis.Analyzer?)[]
                    {
                        ("BM25, k1 0.9 b 0.4", 0.9f, 0.4f, null),
                        ("BM25, Porter stemming", 1.2f, 0.75f, SearchIndex.StemmingAnalyzer),
                    })
                    {
                        var task = context.AddTask($"{name}: indexing", maxValue: corpus.Documents.Count);
                        var index = SearchIndex.Bm25(corpus.Documents, d => task.Value = d, k1, b, analyzer);
                        var queries = targets.Select(t => SearchIndex.Bm25Query(corpus.Documents[t].Synopsis, analyzer)).ToArray();
                        settings.Add(new SearchSetting(name, index, queries, null, queries.Average(q => ((Lucene.Net.Search.BooleanQuery)q).Clauses.Count), 0));
                    }

                    var miningTask = context.AddTask("BM25: mining hard negatives", maxValue: corpus.TrainingTargets.Length);
                    var miningClock = Stopwatch.StartNew();
                    var negatives = HardNegatives.Mine(bm25, corpus, depth: 20, q => miningTask.Value = q);
                    miningSeconds = miningClock.Elapsed.TotalSeconds;

                    foreach (var plan in plans)
                    {
                        var trace = new List<BudgetStep>();
                        settings.Add(TrainAndIndex(context, corpus, negatives, training, plan, targets, scale, device, trace));
                        if (plan.Budgeted)
                        {
                            traces.Add((plan.Name, trace));
                        }
                    }
                });
            AnsiConsole.MarkupLine($"Mined {corpus.TrainingTargets.Length:N0} training queries' BM25 top 20 in {miningSeconds:F1} s.");

            var results = new List<SettingResult>();
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("searching (warm-up round, then timed round)", maxValue: 2 * targets.Length);
                    results = Evaluation.Run(settings, targets, q => task.Value = q);
                });

            AnsiConsole.Write(Report.Table(results, validate ? "validation queries" : "held-out queries"));
            var written = new[]
            {
                Report.WriteCsv(output, results),
                Report.WriteQualityChart(output, results),
                Report.WriteFrequencyChart(output, results.Where(r => r.Setting != "BM25").ToList(), topTerms: 200),
                Report.WriteBudgetChart(output, traces),
            };
            AnsiConsole.MarkupLine("Wrote " + string.Join(", ", written.Select(w => $"[link]{Markup.Escape(Path.GetFullPath(w))}[/]")) + $" in {clock.Elapsed.TotalMinutes:F1} minutes.");
            return 0;
        }
        finally
        {
            foreach (var setting in settings)
            {
                setting.Index.Dispose();
            }
        }
    }

    private static SearchSetting TrainAndIndex(
        ProgressContext context, KnownItemCorpus corpus, HardNegatives negatives, TrainingSettings training, ModelPlan plan, int[] targets, float scale, Device device, List<BudgetStep> trace)
    {
        var trainTask = context.AddTask($"{Markup.Escape(plan.Name)}: training", maxValue: plan.Regularization == Regularization.Untrained ? 1 : training.Steps);
        var clock = Stopwatch.StartNew();
        using var encoder = Training.Train(corpus, negatives, training, plan, device, step => trainTask.Value = step, trace);
        trainTask.Value = trainTask.MaxValue;
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        var (k1, b) = encoder.Bm25Parameters;
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(plan.Name)}: trained in {trainingSeconds:F0} s; learned BM25 k1 {k1:F2}, b {b:F2}."));
        var indexTask = context.AddTask($"{Markup.Escape(plan.Name)}: encoding and indexing", maxValue: 2 * corpus.Documents.Count);
        var documents = Training.Encode(encoder, corpus, Enumerable.Range(0, corpus.Documents.Count).ToArray(), queries: false, device, d => indexTask.Value = d);
        var queries = Training.Encode(encoder, corpus, targets, queries: true, device);
        var index = ImpactIndex.Build(documents, scale, d => indexTask.Value = corpus.Documents.Count + d);
        return new SearchSetting(
            plan.Name,
            index,
            queries.Select(q => ImpactIndex.Query(q, scale)).ToArray(),
            documents.Average(d => d.Terms.Length),
            queries.Average(q => q.Terms.Length),
            trainingSeconds);
    }
}

internal static class NativeMethods
{
    public const int TrimThreshold = -1;
    public const int MmapThreshold = -3;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    public static extern int mallopt(int param, int value);
}
