// A few steps of a real TorchSharp training loop with the packaged losses, then a look inside the package.
// Exit code 0 only when every check holds.
using System.IO.Compression;
using System.Xml.Linq;
using LightningIr.Regularization;
using TorchSharp;
using static TorchSharp.torch;

var failures = new List<string>();
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    if (!ok)
    {
        failures.Add(what);
    }
}

// 1. Train: a linear SPLADE-like encoder, in-batch contrastive loss, FLOPS under a quadratic warmup,
//    plus L1 and L2 through TrainingObjective.
manual_seed(1);
var encoder = nn.Sequential(nn.Linear(32, 512), nn.ReLU());
var optimizer = optim.Adam(encoder.parameters(), 1e-2);
var flops = new FlopsRegularization(queryWeight: 0.05, docWeight: 0.05);
var schedule = new ConstantSchedulerWithQuadraticWarmup(flops, numWarmupSteps: 10);
var objective = new TrainingObjective().Add(flops).Add(new L1Regularization(1e-4, 1e-4)).Add(new L2Regularization(1e-4, 1e-4));
var queryInputs = randn(16, 32);
var docInputs = queryInputs + (0.1 * randn(16, 32));
double firstL0 = 0, lastL0 = 0, lastLoss = double.NaN;
DisposeScopeManager.Statistics.Reset();
for (var step = 1; step <= 40; step++)
{
    schedule.Step(step);
    using var scope = NewDisposeScope();
    var queries = encoder.call(queryInputs).log1p().unsqueeze(1);
    var docs = encoder.call(docInputs).log1p().unsqueeze(1);
    var output = new BiEncoderOutput(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));
    var ranking = nn.functional.cross_entropy(queries.squeeze(1).matmul(docs.squeeze(1).T), arange(16));
    var result = objective.Compute(ranking, output);
    optimizer.zero_grad();
    result.Loss.backward();
    optimizer.step();
    lastLoss = result.Values["loss"];
    var l0 = SparsityMetrics.L0(docs);
    if (step == 1)
    {
        firstL0 = l0;
    }

    lastL0 = l0;
}

schedule.Restore();
Console.WriteLine($"document L0 {firstL0:F1} -> {lastL0:F1}, final loss {lastLoss:F4}");
Check(double.IsFinite(lastLoss), "the training loss is finite");
Check(lastL0 < firstL0, "FLOPS regularization made the document vectors sparser");
Check(flops.QueryWeight == 0.05, "Restore put the base weight back");
Check(DisposeScopeManager.Statistics.ThreadTotalLiveCount == 0, "no tensor outlived its dispose scope");

// 2. A sparsity budget from the package sets λd for a target document L0.
var budgeted = new FlopsRegularization(queryWeight: 0, docWeight: 1e-3);
var budget = new SparsityBudget(budgeted, docL0: 50);
for (var step = 1; step <= 40; step++)
{
    using var scope = NewDisposeScope();
    var queries = encoder.call(queryInputs).log1p().unsqueeze(1);
    var docs = encoder.call(docInputs).log1p().unsqueeze(1);
    var output = new BiEncoderOutput(QueryEmbeddings: new(queries), DocEmbeddings: new(docs));
    budget.Update(output);
    var loss = nn.functional.cross_entropy(queries.squeeze(1).matmul(docs.squeeze(1).T), arange(16)).add(budgeted.ComputeLoss(output));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
}

Console.WriteLine($"budget: document L0 {budget.MeasuredDocL0:F1} against {budget.DocL0}, λd {budgeted.DocWeight:G3}");
Check(budget.Step == 40 && budgeted.DocWeight != 1e-3 && double.IsFinite(budgeted.DocWeight), "the budget moved λd");

// 3. Inspect the package this program was built against.
var feed = args.Length > 0 ? args[0] : throw new ArgumentException("usage: PackageConsumer <feed folder>");
var package = Directory.GetFiles(feed, "LightningIr.Regularization.*.nupkg").Single(p => !p.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
using (var zip = ZipFile.OpenRead(package))
{
    var names = zip.Entries.Select(e => e.FullName).ToHashSet();
    Check(names.Contains("README.md"), "the package carries the README");
    Check(names.Contains("lib/net8.0/LightningIr.Regularization.xml") && names.Contains("lib/net10.0/LightningIr.Regularization.xml"), "the package carries XML docs for net8.0 and net10.0");
    Check(names.Contains("buildTransitive/LightningIr.Regularization.targets"), "the package carries the TorchSharp native fix");
    using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
    var nuspec = XDocument.Load(nuspecStream);
    XNamespace ns = nuspec.Root!.Name.Namespace;
    var metadata = nuspec.Root.Element(ns + "metadata")!;
    var dependencies = metadata.Descendants(ns + "dependency").Select(d => (string)d.Attribute("id")!).Distinct().ToList();
    Check(dependencies.SequenceEqual(["TorchSharp"]), $"the only dependency is TorchSharp (found: {string.Join(", ", dependencies)})");
    Check((string?)metadata.Element(ns + "license") == "Apache-2.0", "the licence expression is Apache-2.0");
    Check(!string.IsNullOrWhiteSpace((string?)metadata.Element(ns + "description")) && !string.IsNullOrWhiteSpace((string?)metadata.Element(ns + "tags")), "description and tags are set");
}

var symbols = Directory.GetFiles(feed, "LightningIr.Regularization.*.snupkg").SingleOrDefault();
Check(symbols is not null, "a symbols package (.snupkg) was produced");
if (symbols is not null)
{
    using var zip = ZipFile.OpenRead(symbols);
    Check(zip.Entries.Any(e => e.FullName.EndsWith("LightningIr.Regularization.pdb", StringComparison.Ordinal)), "the symbols package holds the PDBs (with embedded sources)");
}

Console.WriteLine(failures.Count == 0 ? "package consumer check passed" : $"package consumer check FAILED: {failures.Count} check(s)");
return failures.Count == 0 ? 0 : 1;
