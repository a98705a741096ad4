using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// The command line of the package search: parses and validates the options, builds the plans and hands them to
/// <see cref="Experiment.Run"/>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var quick = new Option<bool>("--quick") { Description = "A small run (under 2 minutes): 6,000 documents, 500 queries, 200 steps." };
        var corpusFiles = new Option<string[]>("--corpus-file") { Description = "Description list(s) in apt's Translation-en format, plain or .lz4; default: the lists apt has fetched.", AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model (default 1,200; --quick 200)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Queries per step; each brings its document and its BM25 hard negatives (--negatives), and every document of the batch is a negative for the other queries.", DefaultValueFactory = _ => 48 };
        var evaluationQueries = new Option<int?>("--queries") { Description = "Held-out queries (default 1,000; --quick 500)." };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Use at most this many documents after cleaning (default all; --quick 6,000)." };
        var hardNegatives = new Option<int>("--negatives") { Description = "BM25 hard negatives per query in each batch (default 3).", DefaultValueFactory = _ => 3 };
        var queryL0 = new Option<double?>("--query-l0") { Description = "A query budget for the document-budget models (mean terms per query); default none: the queries are their own words, and pruning them costs more quality than their posting lists cost time." };
        var docL0 = new Option<double[]>("--doc-l0") { Description = "Document budgets (mean terms per document), one budgeted DF-FLOPS model each; default 33 40 (before quantization): about BM25's postings per document and a little above, far below the unregularized model's thousands.", AllowMultipleArgumentsPerToken = true };
        var costs = new Option<double[]>("--cost") { Description = "FLOPS budgets as multiples of BM25's cost (the postings it visits per training query), one budgeted DF-FLOPS model each; default 1 1.25.", AllowMultipleArgumentsPerToken = true };
        var ownTerms = new Option<bool>("--penalize-own-terms") { Description = "The document penalty acts on the whole document vector, the documents' own terms included, instead of on the expansion head's output alone (budgets measure whole documents either way)." };
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

        var root = new RootCommand("Debian package search in Lucene.NET: a learned sparse retriever that starts at BM25 and expands into the whole vocabulary, trained with FLOPS and DF-FLOPS at fixed λ and under sparsity budgets, against BM25 and against the unregularized model pruned to the same size (LightningIr.Regularization sample).")
        {
            quick, corpusFiles, steps, batchSize, hardNegatives, evaluationQueries, maxDocuments, queryL0, docL0, costs, queryWeight, docWeight, frequencyEvery, frequencyScale, alpha, beta, scale, learningRate, ownTerms, contextual, terms, models, validate, rounds, seed, output, threads,
        };
        root.SetAction(parsed =>
        {
            var isQuick = parsed.GetValue(quick);
            var corpus = new CorpusSettings(
                parsed.GetValue(seed),
                parsed.GetValue(evaluationQueries) ?? (isQuick ? 500 : 1000),
                isQuick ? 300 : 500,
                isQuick ? 512 : 1024,
                parsed.GetValue(maxDocuments) ?? (isQuick ? 6000 : null),
                parsed.GetValue(terms) == "stems");
            var training = new TrainingSettings
            {
                Steps = parsed.GetValue(steps) ?? (isQuick ? 200 : 1200),
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
                PenalizeOwnTerms = parsed.GetValue(ownTerms),
            };
            var plans = ModelPlan.Plans(
                parsed.GetValue(docL0) is { Length: > 0 } budgets ? budgets : ModelPlan.DefaultDocBudgets,
                parsed.GetValue(costs) is { Length: > 0 } multiples ? multiples : ModelPlan.DefaultCosts);
            var numbers = parsed.GetValue(models) ?? [];
            var chosen = new List<ModelPlan>();
            foreach (var number in numbers)
            {
                var n = int.Parse(number, CultureInfo.InvariantCulture);
                if (n > plans.Count)
                {
                    return Experiment.Refuse($"--models: there are {plans.Count} models in this run (1 to {plans.Count}), not {n}.");
                }

                chosen.Add(plans[n - 1]);
            }

            chosen = chosen.Count > 0 ? chosen.Distinct().ToList() : [.. plans];
            if ((parsed.GetResult(queryL0) is { Implicit: false } || parsed.GetResult(docL0) is { Implicit: false }) && !chosen.Any(p => p.DocL0Budget is not null))
            {
                return Experiment.Refuse("--query-l0 and --doc-l0 set L0 budgets, but the chosen --models train no model with a document budget.");
            }

            if (parsed.GetResult(costs) is { Implicit: false } && !chosen.Any(p => p.CostOfBm25 is not null))
            {
                return Experiment.Refuse("--cost sets FLOPS budgets, but the chosen --models train no model with a FLOPS budget.");
            }

            return Experiment.Run(parsed.GetValue(corpusFiles) ?? [], corpus, training, chosen, parsed.GetValue(scale), parsed.GetValue(validate), parsed.GetValue(rounds), parsed.GetValue(output)!, parsed.GetValue(threads));
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
}
