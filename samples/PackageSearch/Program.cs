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
        var quick = new Option<bool>("--quick") { Description = "A small run (about 2 minutes): 8,000 documents, 500 queries, vocabulary 4,096, 300 steps." };
        var corpusFiles = new Option<string[]>("--corpus-file") { Description = "Description list(s) in apt's Translation-en format, plain or .lz4; default: the lists apt has fetched.", AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model (default 2,000; --quick 300)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Query–document pairs per step; the other documents are in-batch negatives.", DefaultValueFactory = _ => 128 };
        var vocabulary = new Option<int?>("--vocabulary") { Description = "Sparse vocabulary: the collection's most frequent cl100k tokens (default 8,192; --quick 4,096)." };
        var evaluationQueries = new Option<int?>("--queries") { Description = "Held-out queries (default 1,000; --quick 500)." };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Use at most this many documents after cleaning (default all; --quick 8,000)." };
        var queryWeight = new Option<double>("--query-weight") { Description = "FLOPS weight λq of the query vectors (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 0.05 };
        var docWeight = new Option<double>("--doc-weight") { Description = "FLOPS weight λd of the document vectors (FLOPS and DF-FLOPS).", DefaultValueFactory = _ => 0.1 };
        var frequencyEvery = new Option<int>("--df-every") { Description = "DF-FLOPS re-estimates document frequencies every this many steps.", DefaultValueFactory = _ => 10 };
        var frequencyScale = new Option<double>("--df-scale") { Description = "DF-FLOPS uses λq and λd times this: its weights below 1 lower the total penalty, so equal sparsity needs a larger λ.", DefaultValueFactory = _ => 3.0 };
        var alpha = new Option<double>("--alpha") { Description = "DF-FLOPS α: the document-frequency fraction at which a term pays half the FLOPS penalty.", DefaultValueFactory = _ => 0.1 };
        var beta = new Option<double>("--beta") { Description = "DF-FLOPS β: how sharply the penalty turns around α.", DefaultValueFactory = _ => 5.0 };
        var scale = new Option<float>("--quantization") { Description = "Impact quantization: weights are multiplied by this and rounded to integer term frequencies.", DefaultValueFactory = _ => 20f };
        var seed = new Option<int>("--seed") { Description = "Seed of the splits, the initial weights and the batches.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output") { Description = "Folder for results.csv and the charts.", DefaultValueFactory = _ => Path.Combine("out", "package-search") };
        var threads = new Option<int>("--threads") { Description = "TorchSharp's CPU threads for training and encoding (Lucene searches on one).", DefaultValueFactory = _ => Environment.ProcessorCount };

        steps.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or > 0, r, "--steps must be a positive number of steps."));
        batchSize.Validators.Add(r => Check(r.GetValueOrDefault<int>() is >= 2 and <= 1024, r, "--batch-size must be between 2 and 1024 (the in-batch negatives need at least 2)."));
        vocabulary.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 16 and <= 100_000, r, "--vocabulary must be between 16 and 100,000 terms."));
        evaluationQueries.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 10, r, "--queries must be at least 10."));
        maxDocuments.Validators.Add(r => Check(r.GetValueOrDefault<int?>() is null or >= 2000, r, "--max-documents must be at least 2,000."));
        queryWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--query-weight must be a finite number ≥ 0."));
        docWeight.Validators.Add(r => Check(IsWeight(r.GetValueOrDefault<double>()), r, "--doc-weight must be a finite number ≥ 0."));
        frequencyScale.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--df-scale must be a finite number > 0."));
        frequencyEvery.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--df-every must be a positive number of steps."));
        alpha.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < 1, r, "--alpha must lie strictly between 0 and 1."));
        beta.Validators.Add(r => Check(r.GetValueOrDefault<double>() is > 0 and < double.PositiveInfinity, r, "--beta must be a finite number > 0."));
        scale.Validators.Add(r => Check(r.GetValueOrDefault<float>() is >= 1 and <= 1000, r, "--quantization must be between 1 and 1,000."));
        output.Validators.Add(r => Check(!string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()), r, "--output must name a folder."));
        threads.Validators.Add(r => Check(r.GetValueOrDefault<int>() > 0, r, "--threads must be at least 1."));
        corpusFiles.Validators.Add(r =>
        {
            foreach (var file in r.GetValueOrDefault<string[]>() ?? [])
            {
                Check(File.Exists(file), r, $"--corpus-file: {file} does not exist.");
            }
        });

        var root = new RootCommand("Debian package search with a learned sparse retriever in Lucene.NET: no regularization, FLOPS and DF-FLOPS against BM25 (LightningIr.Regularization sample).")
        {
            quick, corpusFiles, steps, batchSize, vocabulary, evaluationQueries, maxDocuments, queryWeight, docWeight, frequencyEvery, frequencyScale, alpha, beta, scale, seed, output, threads,
        };
        root.SetAction(parsed =>
        {
            var isQuick = parsed.GetValue(quick);
            var corpus = new CorpusSettings(
                parsed.GetValue(seed),
                parsed.GetValue(evaluationQueries) ?? (isQuick ? 500 : 1000),
                isQuick ? 512 : 1024,
                parsed.GetValue(vocabulary) ?? (isQuick ? 4096 : 8192),
                MaxDocumentTokens: 64,
                MaxQueryTokens: 24,
                parsed.GetValue(maxDocuments) ?? (isQuick ? 8000 : null));
            var training = new TrainingSettings(
                parsed.GetValue(steps) ?? (isQuick ? 300 : 2000),
                parsed.GetValue(batchSize),
                HiddenSize: 64,
                LearningRate: 3e-3,
                parsed.GetValue(queryWeight),
                parsed.GetValue(docWeight),
                WarmupRatio: 1.0 / 3,
                parsed.GetValue(frequencyEvery),
                parsed.GetValue(frequencyScale),
                parsed.GetValue(alpha),
                parsed.GetValue(beta),
                parsed.GetValue(seed));
            return Run(parsed.GetValue(corpusFiles) ?? [], corpus, training, parsed.GetValue(scale), parsed.GetValue(output)!, parsed.GetValue(threads));
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

    private static int Run(string[] corpusFiles, CorpusSettings corpusSettings, TrainingSettings training, float scale, string output, int threads)
    {
        set_num_threads(threads);
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
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160); // the table's eleven columns, in a log file
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

        var (docTokens, queryTokens) = corpus.MeanTokens;
        AnsiConsole.MarkupLine(
            $"[bold]Debian package descriptions[/]: {packages.Count:N0} read from {files.Count} list(s), {cleaned.Count:N0} after removing near-duplicates and short ones; " +
            $"{corpus.Documents.Count:N0} documents, {corpus.EvaluationTargets.Length:N0} held-out queries, {corpus.TrainingTargets.Length:N0} training pairs, " +
            $"vocabulary {corpus.VocabularySize:N0} cl100k tokens (mean {docTokens:F1} per document, {queryTokens:F1} per query).");
        AnsiConsole.MarkupLine(
            $"Three models of {training.Steps} steps × {training.BatchSize} pairs from the same initial weights; FLOPS and DF-FLOPS with λq = {training.QueryWeight:G3}, λd = {training.DocWeight:G3} " +
            $"after a quadratic warmup over {training.WarmupRatio:P0}; DF-FLOPS re-estimates DF every {training.FrequencyEvery} steps on {corpus.FrequencySample.Length:N0} held-out documents (α {training.Alpha:G3}, β {training.Beta:G3}).");

        var device = CPU;
        var settings = new List<SearchSetting>();
        try
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var bm25Task = context.AddTask("BM25: indexing", maxValue: corpus.Documents.Count);
                    var bm25 = SearchIndex.Bm25(corpus.Documents, d => bm25Task.Value = d);
                    var bm25Queries = corpus.EvaluationTargets.Select(t => SearchIndex.Bm25Query(corpus.Documents[t].Synopsis)).ToArray();
                    // BM25's document L0 (distinct terms per document) is left to the evaluation, which reads it off the postings.
                    settings.Add(new SearchSetting("BM25", bm25, bm25Queries, null, bm25Queries.Average(q => ((Lucene.Net.Search.BooleanQuery)q).Clauses.Count), 0));

                    foreach (var regularization in Enum.GetValues<Regularization>())
                    {
                        settings.Add(TrainAndIndex(context, corpus, training, regularization, scale, device));
                    }
                });

            var results = new List<SettingResult>();
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("searching (warm-up round, then timed round)", maxValue: 2 * corpus.EvaluationTargets.Length);
                    results = Evaluation.Run(settings, corpus.EvaluationTargets, q => task.Value = q);
                });

            AnsiConsole.Write(Report.Table(results));
            var csv = Report.WriteCsv(output, results);
            var quality = Report.WriteQualityChart(output, results);
            var frequencies = Report.WriteFrequencyChart(output, results.Where(r => r.Setting != "BM25").ToList(), topTerms: 200);
            AnsiConsole.MarkupLine($"Wrote [link]{Markup.Escape(Path.GetFullPath(csv))}[/], [link]{Markup.Escape(Path.GetFullPath(quality))}[/] and [link]{Markup.Escape(Path.GetFullPath(frequencies))}[/] in {clock.Elapsed.TotalMinutes:F1} minutes.");
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

    private static SearchSetting TrainAndIndex(ProgressContext context, KnownItemCorpus corpus, TrainingSettings training, Regularization regularization, float scale, Device device)
    {
        var name = regularization switch
        {
            Regularization.None => "no regularization",
            Regularization.Flops => "FLOPS",
            _ => "DF-FLOPS",
        };
        var trainTask = context.AddTask($"{name}: training", maxValue: training.Steps);
        var clock = Stopwatch.StartNew();
        using var encoder = Training.Train(corpus, training, regularization, device, (step, _) => trainTask.Value = step);
        var trainingSeconds = clock.Elapsed.TotalSeconds;
        var indexTask = context.AddTask($"{name}: encoding and indexing", maxValue: corpus.Documents.Count);
        var documents = Training.Encode(encoder, corpus, Enumerable.Range(0, corpus.Documents.Count).ToArray(), queries: false, device);
        var queries = Training.Encode(encoder, corpus, corpus.EvaluationTargets, queries: true, device);
        var index = ImpactIndex.Build(documents, scale, d => indexTask.Value = d);
        return new SearchSetting(
            name,
            index,
            queries.Select(q => ImpactIndex.Query(q, scale)).ToArray(),
            documents.Average(d => d.Terms.Length),
            queries.Average(q => q.Terms.Length),
            trainingSeconds);
    }
}
