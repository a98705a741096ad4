using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// One run of the comparison: reads the collection, builds the keyword baselines, trains every plan, cuts the
/// unregularized model and the untrained start to each regularized row's size, serves everything from Lucene.NET in
/// rotating rounds, and writes the report.
/// </summary>
public static class Experiment
{
    private static string Listed(IEnumerable<double?> values) =>
        values.OfType<double>().Select(v => v.ToString("G4", CultureInfo.InvariantCulture)).DefaultIfEmpty("none").Aggregate((a, b) => a + ", " + b);

    /// <summary>Prints a refusal in red and returns exit code 2.</summary>
    public static int Refuse(string message)
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
                _ = mallopt(MmapMax, 0);
                _ = mallopt(TrimThreshold, 1 << 30);
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (musl): nothing to tune.
            }
        }
    }

    /// <summary>Reads the collection, trains every plan, adds the pruned baselines, searches and reports; the exit code.</summary>
    public static int Run(
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
        var models = new List<TrainedModel>();
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
                        settings.Add(new SearchSetting(name, SettingKind.Keyword, index, text => KeywordIndex.Bm25Query(text, analyzer), EncoderDocL0: null, TrainingSeconds: 0));
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
                        var model = TrainAndIndex(context, corpus, negatives, training, plan, scale, device, trace);
                        models.Add(model);
                        if (model.Setting is not null)
                        {
                            settings.Add(model.Setting);
                        }

                        if (plan.Budgeted)
                        {
                            traces.Add((plan.Name, trace));
                        }
                    }

                    settings.AddRange(PrunedRows(context, corpus, models, scale));
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
                Report.WriteFrequencyChart(output, results.Where(r => r.Setting != Bm25Name && r.Kind != SettingKind.Pruned).ToList(), topTerms: 200),
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

            foreach (var model in models.Where(m => m.Setting is null))
            {
                model.Queries.Dispose(); // a served model's setting disposed its encoder
            }
        }
    }

    /// <summary>The name of the BM25 row, the baseline of every comparison.</summary>
    public const string Bm25Name = "BM25";

    /// <summary>A trained plan: its documents on the host, its query side, and its served setting, or none when it was too big to serve as is.</summary>
    private sealed record TrainedModel(ModelPlan Plan, EncodedDocuments Documents, LearnedQueries Queries, SearchSetting? Setting);

    private static TrainedModel TrainAndIndex(
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
        // Every document keeps its own terms at least: the cap binds on expansions only.
        var cap = Math.Max(CollectionEncoding.Cap, corpus.LongestDocument);
        var encoded = CollectionEncoding.Documents(encoder, corpus, Enumerable.Range(0, corpus.Documents.Count).ToArray(), scale, device, cap, d => indexTask.Value = d);
        var queries = new LearnedQueries(corpus, encoder, scale, device);
        if (encoded.Postings < (1 - MaxCapCut) * encoded.QuantizedPostings)
        {
            // Too big to serve as it is (the cap cut more than 2% of its postings): its size is reported, and it is
            // served only pruned.
            AnsiConsole.MarkupLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{Markup.Escape(plan.Name)}: not served as it is: {encoded.EncoderDocL0:F0} non-zeros per document ({encoded.EncoderDocL0 / corpus.MeanTerms.Document:F0} times the documents' own terms), an impact index of {encoded.QuantizedPostings:N0} postings after quantization; {encoded.CappedDocuments:N0} documents hold more than {cap:N0}, which the host copy keeps (its largest) for the pruned baselines."));
            indexTask.Value = indexTask.MaxValue;
            return new TrainedModel(plan, encoded, queries, null);
        }

        if (encoded.CappedDocuments > 0)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(plan.Name)}: {encoded.CappedDocuments:N0} documents hold more than {cap:N0} entries and are served with their largest {cap:N0} ({encoded.Postings:N0} of {encoded.QuantizedPostings:N0} postings)."));
        }

        var index = ImpactIndex.Build(encoded.Vectors, corpus.IndexOrder, scale, d => indexTask.Value = corpus.Documents.Count + d);
        var kind = plan.Regularization == Regularization.Untrained ? SettingKind.Start : SettingKind.Trained;
        return new TrainedModel(plan, encoded, queries, new SearchSetting(plan.Name, kind, index, queries.Serve, encoded.EncoderDocL0, trainingSeconds, queries));
    }

    /// <summary>The sources of the pruned baselines: the model trained without a regularizer, and the untrained start.</summary>
    private static readonly (Regularization Source, string Short)[] PrunedSources =
    [
        (Regularization.Unregularized, "λ = 0"),
        (Regularization.Untrained, "start"),
    ];

    /// <summary>
    /// For every regularized row (fixed λ and budgets), the λ = 0 model and the untrained start cut to its postings by
    /// each of <see cref="PrunedBaselines.Methods"/>, served with their own query side.
    /// </summary>
    private static List<SearchSetting> PrunedRows(ProgressContext context, KnownItemCorpus corpus, List<TrainedModel> models, float scale)
    {
        var rows = new List<SearchSetting>();
        var targets = models.Where(m => m.Setting is not null && m.Plan.Regularization is Regularization.Flops or Regularization.DfFlops).ToList();
        foreach (var (source, shortName) in PrunedSources)
        {
            foreach (var from in models.Where(m => m.Plan.Regularization == source))
            {
                foreach (var target in targets)
                {
                    if (from.Documents.Postings < (1 + Evaluation.MatchedSize) * target.Documents.Postings)
                    {
                        continue; // already no bigger than the target: a "pruned" copy would be the source itself
                    }

                    foreach (var (method, prune) in PrunedBaselines.Methods)
                    {
                        var name = $"{shortName}, {method}, at {target.Plan.Name}";
                        var task = context.AddTask($"{Markup.Escape(name)}: pruning and indexing", maxValue: corpus.Documents.Count);
                        var vectors = prune(from.Documents.Vectors, target.Documents.Postings, corpus.VocabularySize);
                        var full = vectors.Where((v, d) => from.Documents.Vectors[d].Terms.Length == from.Documents.Cap && v.Terms.Length == from.Documents.Cap).Count();
                        if (full > 0)
                        {
                            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(name)}: {full} capped documents kept every entry of their host copy; the cut is not exact for them.[/]");
                        }

                        var index = ImpactIndex.Build(vectors, corpus.IndexOrder, scale, d => task.Value = d);
                        rows.Add(new SearchSetting(name, SettingKind.Pruned, index, from.Queries.Serve, EncoderDocL0: null, TrainingSeconds: 0) { PrunedFrom = from.Plan.Name, PrunedBy = method });
                    }
                }
            }
        }

        return rows;
    }

    /// <summary>
    /// The largest share of a model's quantized postings the host cap may cut for the model to be served as it is; a
    /// model cut more is reported with its size and served only pruned.
    /// </summary>
    private const double MaxCapCut = 0.02;

    /// <summary>The name of the model trained without a regularizer, the main source of the pruned baselines.</summary>
    public const string UnregularizedName = "trained, λ = 0";

    private const int TrimThreshold = -1;
    private const int MmapMax = -4;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int mallopt(int param, int value);
}
