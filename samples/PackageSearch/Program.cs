using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// Trains a learned sparse retriever that starts as BM25 on Debian's package descriptions: with λ = 0, with FLOPS and
/// DF-FLOPS at fixed λ, and under document budgets on both sides of BM25's size. Serves each as a Lucene.NET impact
/// index next to three keyword baselines (BM25, tuned BM25, stemmed BM25) in one process, and reports quality with
/// paired intervals against size and end-to-end latency.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var quick = new Option<bool>("--quick") { Description = "A small run (under 3 minutes): 8,000 documents, 500 queries, 300 steps." };
        var corpusFiles = new Option<string[]>("--corpus-file") { Description = "Description list(s) in apt's Translation-en format, plain or .lz4; default: the lists apt has fetched.", AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model (default 1,500; --quick 300)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Queries per step; each brings its document and its BM25 hard negatives (--negatives), and every document of the batch is a negative for the other queries.", DefaultValueFactory = _ => 48 };
        var evaluationQueries = new Option<int?>("--queries") { Description = "Held-out queries (default 1,000; --quick 500)." };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Use at most this many documents after cleaning (default all; --quick 8,000)." };
        var hardNegatives = new Option<int>("--negatives") { Description = "BM25 hard negatives per query in each batch (default 3).", DefaultValueFactory = _ => 3 };
        var queryL0 = new Option<double?>("--query-l0") { Description = "A query budget for the document-budget models (mean terms per query); default none: the queries are their own words, and pruning them costs more quality than their posting lists cost time." };
        var docL0 = new Option<double[]>("--doc-l0") { Description = "Document budgets (mean terms per document), one budgeted DF-FLOPS model each; default 20 25 30, below the unregularized model's density.", AllowMultipleArgumentsPerToken = true };
        var costs = new Option<double[]>("--cost") { Description = "FLOPS budgets as multiples of BM25's cost (the postings it visits per training query), one budgeted DF-FLOPS model each; default 1.1 1.25.", AllowMultipleArgumentsPerToken = true };
        var contextual = new Option<bool>("--contextual-queries") { Description = "Query term factors that depend on the query (a model call per query) instead of one weight per term (a table lookup)." };
        var terms = new Option<string>("--terms") { Description = "The learned models' terms: stems (Lucene's English analyzer with Porter stemming, the strongest keyword row's terms) or words (the standard analyzer's, plain BM25's).", DefaultValueFactory = _ => "stems" };
        var rounds = new Option<int>("--rounds") { Description = "Timed search rounds after the warm-up round; each query visits the settings in a new seeded order every round.", DefaultValueFactory = _ => 3 };
        var queryWeight = new Option<double>("--query-weight") { Description = "FLOPS weight λq of the fixed-λ models (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 1e-3 };
        var docWeight = new Option<double>("--doc-weight") { Description = "FLOPS weight λd of the fixed-λ models (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 1e-3 };
        var frequencyEvery = new Option<int>("--df-every") { Description = "DF-FLOPS re-estimates document frequencies every this many steps.", DefaultValueFactory = _ => 10 };
        var frequencyScale = new Option<double>("--df-scale") { Description = "The fixed-λ DF-FLOPS model uses λq and λd times this: its weights below 1 lower the total penalty.", DefaultValueFactory = _ => 3.0 };
        var alpha = new Option<double>("--alpha") { Description = "DF-FLOPS α: the document-frequency fraction at which a term pays half the FLOPS penalty.", DefaultValueFactory = _ => 0.1 };
        var beta = new Option<double>("--beta") { Description = "DF-FLOPS β: how sharply the penalty turns around α.", DefaultValueFactory = _ => 5.0 };
        var scale = new Option<float>("--quantization") { Description = "Impact quantization: weights are multiplied by this and rounded to integer term frequencies.", DefaultValueFactory = _ => 8f };
        var learningRate = new Option<double>("--learning-rate") { Description = "Adam's learning rate of the per-term factors and BM25's k1 and b (the shared embeddings and context layers learn 30 times slower).", DefaultValueFactory = _ => 3e-3 };
        var models = new Option<string[]>("--models") { Description = "Train only these models, by their number in the report (1 = the untrained start, 2 = λ = 0, 3 = FLOPS fixed λ, 4 = DF-FLOPS fixed λ, 5 and on = the document budgets, then the FLOPS budgets, in order); default all.", AllowMultipleArgumentsPerToken = true };
        var validate = new Option<bool>("--validate") { Description = "Report on the validation queries (carved from the training packages) instead of the held-out ones: for tuning." };
        var seed = new Option<int>("--seed") { Description = "Seed of the splits, the initial weights and the batches.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Folder for results.csv and the charts.", DefaultValueFactory = _ => Path.Combine("out", "package-search") };
        var threads = new Option<int>("--threads") { Description = "TorchSharp's CPU threads for training and encoding (Lucene searches on one).", DefaultValueFactory = _ => Environment.ProcessorCount };

        steps.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or > 0, r, "--steps must be a positive number of steps."));
        batchSize.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 2 and <= 1024, r, "--batch-size must be between 2 and 1024 (the in-batch negatives need at least 2)."));
        hardNegatives.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 0 and <= 20, r, "--negatives must be between 0 and 20 (BM25's top 20 are mined)."));
        evaluationQueries.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 10, r, "--queries must be at least 10."));
        maxDocuments.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 3000, r, "--max-documents must be at least 3,000."));
        queryL0.Validators.Add(r => Check(r.GetValueOrDefault<double?>() is null or (> 0 and < double.PositiveInfinity), r, "--query-l0 must be a finite number > 0."));
        docL0.Validators.Add(r => Check((r.GetValueOrDefault<double[]>() ?? []).All(d => d is > 0 and < double.PositiveInfinity), r, "--doc-l0 takes finite numbers > 0."));
        costs.Validators.Add(r => Check((r.GetValueOrDefault<double[]>() ?? []).All(c => c is > 0 and <= 100), r, "--cost takes multiples of BM25's cost, > 0 and at most 100."));
        terms.Validators.Add(r => Check(r.GetValueOrDefault<string>() is "stems" or "words", r, "--terms takes stems or words."));
        rounds.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 1 and <= 20, r, "--rounds must be between 1 and 20."));
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
            (r.GetValueOrDefault<string[]>() ?? []).All(m => int.TryParse(m, CultureInfo.InvariantCulture, out var n) && n >= 1),
            r,
            "--models takes model numbers from 1 (see --help)."));
        corpusFiles.Validators.Add(r =>
        {
            foreach (var file in r.GetValueOrDefault<string[]>() ?? [])
            {
                Check(File.Exists(file), r, $"--corpus-file: {file} does not exist.");
            }
        });

        var root = new RootCommand("Debian package search in Lucene.NET: a learned sparse retriever that starts at BM25, trained with FLOPS and DF-FLOPS at fixed λ and under sparsity budgets, against BM25 (LightningIr.Regularization sample).")
        {
            quick, corpusFiles, steps, batchSize, hardNegatives, evaluationQueries, maxDocuments, queryL0, docL0, costs, queryWeight, docWeight, frequencyEvery, frequencyScale, alpha, beta, scale, learningRate, contextual, terms, models, validate, rounds, seed, output, threads,
        };
        root.SetAction(parsed =>
        {
            var isQuick = parsed.GetValue(quick);
            var corpus = new CorpusSettings(
                parsed.GetValue(seed),
                parsed.GetValue(evaluationQueries) ?? (isQuick ? 500 : 1000),
                isQuick ? 300 : 500,
                isQuick ? 512 : 1024,
                parsed.GetValue(maxDocuments) ?? (isQuick ? 8000 : null),
                parsed.GetValue(terms) == "stems");
            var training = new TrainingSettings
            {
                Steps = parsed.GetValue(steps) ?? (isQuick ? 300 : 1500),
                BatchSize = parsed.GetValue(batchSize),
                HardNegatives = parsed.GetValue(hardNegatives),
                LearningRate = parsed.GetValue(learningRate),
                QueryWeight = parsed.GetValue(queryWeight),
                DocWeight = parsed.GetValue(docWeight),
                FrequencyEvery = parsed.GetValue(frequencyEvery),
                FrequencyScale = parsed.GetValue(frequencyScale),
                Alpha = parsed.GetValue(alpha),
                Beta = parsed.GetValue(beta),
                Seed = parsed.GetValue(seed),
                QueryL0 = parsed.GetValue(queryL0),
                ContextualQueries = parsed.GetValue(contextual),
            };
            var plans = Plans(
                parsed.GetValue(docL0) is { Length: > 0 } budgets ? budgets : DefaultDocBudgets,
                parsed.GetValue(costs) is { Length: > 0 } multiples ? multiples : DefaultCosts);
            var numbers = parsed.GetValue(models) ?? [];
            var chosen = new List<ModelPlan>();
            foreach (var number in numbers)
            {
                var n = int.Parse(number, CultureInfo.InvariantCulture);
                if (n > plans.Count)
                {
                    return Refuse($"--models: there are {plans.Count} models in this run (1 to {plans.Count}), not {n}.");
                }

                chosen.Add(plans[n - 1]);
            }

            chosen = chosen.Count > 0 ? chosen.Distinct().ToList() : [.. plans];
            if ((parsed.GetResult(queryL0) is { Implicit: false } || parsed.GetResult(docL0) is { Implicit: false }) && !chosen.Any(p => p.DocL0Budget is not null))
            {
                return Refuse("--query-l0 and --doc-l0 set L0 budgets, but the chosen --models train no model with a document budget.");
            }

            if (parsed.GetResult(costs) is { Implicit: false } && !chosen.Any(p => p.CostOfBm25 is not null))
            {
                return Refuse("--cost sets FLOPS budgets, but the chosen --models train no model with a FLOPS budget.");
            }

            return Run(parsed.GetValue(corpusFiles) ?? [], corpus, training, chosen, parsed.GetValue(scale), parsed.GetValue(validate), parsed.GetValue(rounds), parsed.GetValue(output)!, parsed.GetValue(threads));
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

    /// <summary>
    /// The document budgets of the default run, below the trained model's own density (about BM25's terms per document:
    /// the learned models expand little beyond their stems), where a budget binds; a budget above it would be slack.
    /// </summary>
    public static IReadOnlyList<double> DefaultDocBudgets { get; } = [20, 25, 30];

    /// <summary>
    /// The FLOPS budgets of the default run, as multiples of BM25's cost on the collection (the postings it visits per
    /// training query): the budget is measured before quantization, which serves about a fifth less, so 1.25 serves
    /// about BM25's cost (chosen on the validation queries).
    /// </summary>
    public static IReadOnlyList<double> DefaultCosts { get; } = [1.1, 1.25];

    /// <summary>
    /// The models a run trains, in the order of the report: the start, λ = 0, fixed λ, then one budget per document
    /// target and one per cost (a FLOPS budget as a multiple of BM25's cost).
    /// </summary>
    public static IReadOnlyList<ModelPlan> Plans(IReadOnlyList<double> docBudgets, IReadOnlyList<double> costs)
    {
        ArgumentNullException.ThrowIfNull(docBudgets);
        ArgumentNullException.ThrowIfNull(costs);
        return
        [
            new("BM25 start (untrained)", Regularization.Untrained),
            new("trained, λ = 0", Regularization.Unregularized),
            new("FLOPS, fixed λ", Regularization.Flops),
            new("DF-FLOPS, fixed λ", Regularization.DfFlops),
            .. docBudgets.Select(d => new ModelPlan(string.Create(CultureInfo.InvariantCulture, $"DF-FLOPS, budget {d:G4}"), Regularization.DfFlops, d)),
            .. costs.Select(c => new ModelPlan(string.Create(CultureInfo.InvariantCulture, $"DF-FLOPS, {c:G4}× BM25's cost"), Regularization.DfFlops, CostOfBm25: c)),
        ];
    }

    private static string Listed(IEnumerable<double?> values) =>
        values.OfType<double>().Select(v => v.ToString("G4", CultureInfo.InvariantCulture)).DefaultIfEmpty("none").Aggregate((a, b) => a + ", " + b);

    private static int Refuse(string message)
    {
        AnsiConsole.MarkupLine($"[red]{Markup.Escape(message)}[/]");
        return 2;
    }

    /// <summary>
    /// glibc maps every allocation above its mmap threshold (at most 32 MB) fresh, and a fresh mapping page-faults on
    /// first touch; this sample's [batch, V] tensors are tens of MB (50 MB with three hard negatives), allocated and freed
    /// every step. Turning mmap off for malloc and keeping freed memory serves them from the heap (benchmarks/README.md
    /// measures the same for the losses): λ = 0's 1,500 steps with three hard negatives took 129 s with the threshold at
    /// 32 MB and 37 s with mmap off.
    /// </summary>
    private static void KeepLargeBlocksOnTheHeap()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = NativeMethods.mallopt(NativeMethods.MmapMax, 0);
                _ = NativeMethods.mallopt(NativeMethods.TrimThreshold, 1 << 30);
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (musl): nothing to tune.
            }
        }
    }

    private static int Run(
        string[] corpusFiles, CorpusSettings corpusSettings, TrainingSettings training, IReadOnlyList<ModelPlan> plans, float scale, bool validate, int rounds, string output, int threads)
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
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 230); // the table's columns, in a log file
        }

        var clock = Stopwatch.StartNew();
        List<PackageDescription> packages;
        try
        {
            packages = files.SelectMany(PackageDescriptions.Read).ToList();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return Refuse($"Could not read the description lists ({string.Join(", ", files)}): {e.Message} Pass apt's Translation-en files, plain or .lz4.");
        }

        var cleaned = PackageDescriptions.Clean(packages, minimumWords: 20);
        KnownItemCorpus corpus;
        try
        {
            corpus = new KnownItemCorpus(cleaned, corpusSettings);
        }
        catch (InvalidOperationException e)
        {
            return Refuse($"{e.Message} Read {packages.Count:N0} packages from {string.Join(", ", files)}, {cleaned.Count:N0} usable; is it apt's Translation-en format (Package:, Description-en: and indented lines)?");
        }

        if (training.BatchSize > corpus.TrainingTargets.Length)
        {
            return Refuse($"--batch-size {training.BatchSize} is more than the {corpus.TrainingTargets.Length:N0} training pairs of this corpus: a batch holds distinct queries. Lower --batch-size or raise --max-documents.");
        }

        var (docTerms, queryTerms) = corpus.MeanTerms;
        var targets = validate ? corpus.ValidationTargets : corpus.EvaluationTargets;
        var texts = targets.Select(t => corpus.Documents[t].Synopsis).ToArray();
        AnsiConsole.MarkupLine(
            $"[bold]Debian package descriptions[/]: {packages.Count:N0} read from {files.Count} list(s), {cleaned.Count:N0} after removing near-duplicates and short ones; " +
            $"{corpus.Documents.Count:N0} documents, {corpus.EvaluationTargets.Length:N0} held-out and {corpus.ValidationTargets.Length:N0} validation queries, {corpus.TrainingTargets.Length:N0} training pairs. " +
            $"Vocabulary V = {corpus.VocabularySize:N0}: every term {(corpusSettings.Stemming ? "Lucene's English analyzer (Porter stems)" : "Lucene's standard analyzer")} finds in the documents and training queries (mean {docTerms:F1} distinct terms per document, {queryTerms:F1} per query), nothing truncated.");
        AnsiConsole.MarkupLine(
            $"Models: {plans.Count(p => p.Regularization != Regularization.Untrained)} trainings of {training.Steps} steps × {training.BatchSize} queries (plus the untrained start); fixed λq = {training.QueryWeight:G3}, λd = {training.DocWeight:G3} " +
            $"after a quadratic warmup over {training.WarmupRatio:P0}; document budgets of {Listed(plans.Select(p => p.DocL0Budget))} terms and FLOPS budgets of {Listed(plans.Select(p => p.CostOfBm25))} × BM25's cost" +
            (training.QueryL0 is double q ? $" and a query budget of {q:G3} terms" : ", no query budget") + $", with the library's defaults; {(training.ContextualQueries ? "contextual queries" : "queries served from a per-term weight table")}. " +
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
                    // Three keyword baselines: Lucene's BM25, BM25 with Anserini's MS MARCO parameters, and BM25 over Porter stems.
                    SearchIndex? bm25 = null;
                    foreach (var (name, k1, b, analyzer) in new (string, float, float, Lucene.Net.Analysis.Analyzer?)[]
                    {
                        (Bm25Name, KnownItemCorpus.K1, KnownItemCorpus.B, null),
                        ("BM25, k1 0.9 b 0.4", 0.9f, 0.4f, null),
                        ("BM25, Porter stemming", KnownItemCorpus.K1, KnownItemCorpus.B, KeywordIndex.StemmingAnalyzer),
                    })
                    {
                        var task = context.AddTask($"{name}: indexing", maxValue: corpus.Documents.Count);
                        var index = KeywordIndex.Bm25(corpus.Documents, corpus.IndexOrder, d => task.Value = d, k1, b, analyzer);
                        bm25 ??= index;
                        settings.Add(new SearchSetting(name, Keyword: true, index, text => KeywordIndex.Bm25Query(text, analyzer), EncoderDocL0: null, TrainingSeconds: 0));
                    }

                    var miningTask = context.AddTask("BM25: mining hard negatives", maxValue: corpus.TrainingTargets.Length);
                    var miningClock = Stopwatch.StartNew();
                    var negatives = HardNegatives.Mine(bm25!, corpus, depth: 20, q => miningTask.Value = q);
                    miningSeconds = miningClock.Elapsed.TotalSeconds;
                    // BM25's cost: the postings its disjunction visits per training query, as a fraction of the documents.
                    var bm25Cost = corpus.TrainingTargets.Average(t => (double)bm25!.PostingsVisited(KeywordIndex.Bm25Query(corpus.Documents[t].Synopsis))) / corpus.Documents.Count;
                    var resolved = plans.Select(p => p.Resolve(bm25Cost)).ToList();
                    if (resolved.Any(p => p.CostOfBm25 is not null))
                    {
                        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"BM25's cost on the training queries: {bm25Cost:F3} of the documents per query; FLOPS budgets {string.Join(", ", resolved.Where(p => p.CostOfBm25 is not null).Select(p => $"{p.CostOfBm25:G4}× = {p.FlopsBudget:F3}"))}."));
                    }

                    foreach (var plan in resolved)
                    {
                        var trace = new List<BudgetStep>();
                        settings.Add(TrainAndIndex(context, corpus, negatives, training, plan, scale, device, trace));
                        if (plan.Budgeted)
                        {
                            traces.Add((plan.Name, trace));
                        }
                    }
                });
            AnsiConsole.MarkupLine($"Mined {corpus.TrainingTargets.Length:N0} training queries' BM25 top 20 in {miningSeconds:F1} s.");

            // Searching and serving on one thread, as Lucene searches.
            set_num_threads(1);
            var results = new List<SettingResult>();
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"searching (a warm-up round, then {rounds} timed rounds in rotating order)", maxValue: (rounds + 1) * texts.Length);
                    results = Evaluation.Run(settings, texts, targets, rounds, corpusSettings.Seed, Bm25Name, q => task.Value = q);
                });

            AnsiConsole.Write(Report.Table(results, validate ? "validation queries" : "held-out queries"));
            var written = new[]
            {
                Report.WriteCsv(output, results),
                Report.WriteFrontierChart(output, results, [
                    plans.Where(p => p.DocL0Budget is not null).Select(p => p.Name).ToList(),
                    plans.Where(p => p.CostOfBm25 is not null).Select(p => p.Name).ToList()]),
                Report.WriteFrequencyChart(output, results.Where(r => r.Setting != Bm25Name).ToList(), topTerms: 200),
                Report.WriteBudgetChart(output, traces),
            };
            AnsiConsole.MarkupLine("Wrote " + string.Join(", ", written.Select(w => $"[link]{Markup.Escape(Path.GetFullPath(w))}[/]")) + $" in {clock.Elapsed.TotalMinutes:F1} minutes.");
            return 0;
        }
        finally
        {
            foreach (var setting in settings)
            {
                setting.Dispose();
            }
        }
    }

    /// <summary>The name of the BM25 row, the baseline of every comparison.</summary>
    public const string Bm25Name = "BM25";

    private static SearchSetting TrainAndIndex(
        ProgressContext context, KnownItemCorpus corpus, HardNegatives negatives, TrainingSettings training, ModelPlan plan, float scale, Device device, List<BudgetStep> trace)
    {
        var trainTask = context.AddTask($"{Markup.Escape(plan.Name)}: training", maxValue: plan.Regularization == Regularization.Untrained ? 1 : training.Steps);
        var clock = Stopwatch.StartNew();
        var encoder = Training.Train(corpus, negatives, training, plan, device, step => trainTask.Value = step, trace);
        trainTask.Value = trainTask.MaxValue;
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        var (k1, b) = encoder.Bm25Parameters;
        // One batch's figure is noisy (48 queries, 48 documents): the status line gives the mean of the last 100.
        var last = trace.TakeLast(100).ToList();
        var status = trace.Count == 0 ? ""
            : plan.FlopsBudget is not null ? string.Create(CultureInfo.InvariantCulture, $"; budget {trace[^1].Status}: FLOPS {last.Average(t => t.Flops):F3} of {trace[^1].FlopsTarget:F3}")
            : string.Create(CultureInfo.InvariantCulture, $"; budget {trace[^1].Status}: document L0 {last.Average(t => t.DocL0):F1} of {trace[^1].DocTarget:G4}")
                + (training.QueryL0 is null ? "" : string.Create(CultureInfo.InvariantCulture, $", query L0 {last.Average(t => t.QueryL0):F2} of {trace[^1].QueryTarget:G3}"));
        status += status.Length == 0 ? "" : $" over the last {last.Count} batches";
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(plan.Name)}: trained in {trainingSeconds:F0} s; learned BM25 k1 {k1:F2}, b {b:F2}{status}."));
        var indexTask = context.AddTask($"{Markup.Escape(plan.Name)}: encoding and indexing", maxValue: 2 * corpus.Documents.Count);
        var documents = Training.Encode(encoder, corpus, Enumerable.Range(0, corpus.Documents.Count).ToArray(), queries: false, device, d => indexTask.Value = d);
        var index = ImpactIndex.Build(documents, corpus.IndexOrder, scale, d => indexTask.Value = corpus.Documents.Count + d);
        var queries = new LearnedQueries(corpus, encoder, scale, device);
        return new SearchSetting(plan.Name, Keyword: false, index, queries.Serve, documents.Average(d => d.Terms.Length), trainingSeconds, queries);
    }
}
