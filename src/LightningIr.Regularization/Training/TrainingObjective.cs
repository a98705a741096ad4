namespace LightningIr.Regularization;

/// <summary>
/// Sums a ranking loss and any number of weighted regularizers into one training objective and reports
/// every part as a number for logging, as Lightning IR's module does with its list of (loss, weight) pairs.
/// </summary>
/// <remarks>
/// Counterpart of the list of (loss, weight) pairs a Lightning IR module trains on, each logged under its class name.
/// The keys: <see cref="RankingLossName"/>, each regularizer's <see cref="LossFunction.Name"/> (its value before the list
/// weight) with <c>/query</c> and <c>/doc</c>, and <see cref="ObjectiveName"/>; a name used twice gets <c>#2</c>, ….
/// </remarks>
/// <example>
/// <code>
/// var objective = new TrainingObjective()
///     .Add(new FlopsRegularization(3e-4, 1e-4))
///     .Add(new L1Regularization(1e-5, 1e-5), weight: 0.5);
/// using var scope = torch.NewDisposeScope();
/// var result = objective.Compute(crossEntropy, output);
/// result.Loss.backward();
/// foreach (var (name, value) in result.Values) logger.Log(name, value);
/// </code>
/// </example>
public sealed class TrainingObjective
{
    private readonly List<(RegularizationLossFunction Regularizer, double Weight)> regularizers = [];
    private readonly List<SparsityBudget?> budgets = [];

    /// <summary>Creates an objective with no regularizer yet.</summary>
    /// <param name="rankingLossName">The key the ranking loss is reported under.</param>
    /// <param name="rankingWeight">The factor of the ranking loss: finite and ≥ 0.</param>
    /// <exception cref="ArgumentException"><paramref name="rankingLossName"/> is empty, white space, or the reserved key <see cref="ObjectiveName"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rankingWeight"/> is NaN, infinite or negative.</exception>
    public TrainingObjective(string rankingLossName = "RankingLoss", double rankingWeight = 1.0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rankingLossName);
        if (rankingLossName == ObjectiveName)
        {
            throw new ArgumentException($"\"{ObjectiveName}\" is the key of the whole objective; give the ranking loss another name.", nameof(rankingLossName));
        }

        RankingLossName = rankingLossName;
        RankingWeight = Guard.CheckWeight(rankingWeight, nameof(rankingWeight));
    }

    /// <summary>The key the whole objective is reported under: <c>loss</c>, as Lightning IR logs it.</summary>
    public const string ObjectiveName = "loss";

    /// <summary>The key the ranking loss is reported under.</summary>
    public string RankingLossName { get; }

    /// <summary>The factor of the ranking loss.</summary>
    public double RankingWeight { get; }

    /// <summary>The regularizers and their weights, in the order they were added.</summary>
    public IReadOnlyList<(RegularizationLossFunction Regularizer, double Weight)> Regularizers => regularizers;

    /// <summary>Adds a regularizer with a weight (Lightning IR's default 1.0).</summary>
    /// <param name="regularizer">The regularizer.</param>
    /// <param name="weight">Its factor in the objective: finite and ≥ 0.</param>
    /// <returns>This objective, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="regularizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is NaN, infinite or negative.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads take unrelated first parameters, so a call is never ambiguous.")]
    public TrainingObjective Add(RegularizationLossFunction regularizer, double weight = 1.0)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        regularizers.Add((regularizer, Guard.CheckWeight(weight, nameof(weight))));
        budgets.Add(null);
        return this;
    }

    /// <summary>
    /// Adds the regularizer of a sparsity budget with a weight, and logs the budget beside it: the regularizer's current
    /// weights (<c>/query_weight</c>, <c>/doc_weight</c>) and, for each target, the last measurement and the current target
    /// (<c>/query_l0</c> and <c>/query_l0_target</c>, <c>/doc_l0</c> and <c>/doc_l0_target</c>, <c>/flops</c> and
    /// <c>/flops_target</c>) and the budget's <see cref="SparsityBudget.Status"/> as its number (<c>/status</c>: 0 tracking,
    /// 1 slack, 2 warmup, 3 converging, 4 unreachable, 5 collapsed) once the budget has been updated. Updating the budget
    /// stays the caller's, once per optimizer step.
    /// </summary>
    /// <param name="budget">The budget; its <see cref="SparsityBudget.Regularizer"/> joins the objective.</param>
    /// <param name="weight">The regularizer's factor in the objective: finite and ≥ 0.</param>
    /// <returns>This objective, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="budget"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is NaN, infinite or negative.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads take unrelated first parameters, so a call is never ambiguous.")]
    public TrainingObjective Add(SparsityBudget budget, double weight = 1.0)
    {
        ArgumentNullException.ThrowIfNull(budget);
        Add(budget.Regularizer, weight);
        budgets[^1] = budget;
        return this;
    }

    /// <summary>Computes the objective and its parts.</summary>
    /// <param name="rankingLoss">The ranking loss of the batch, a 0-dimensional floating-point tensor (any loss the caller computed).</param>
    /// <param name="output">The bi-encoder output the regularizers read.</param>
    /// <returns>The objective tensor, in the caller's dispose scope, and every part as a number.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="rankingLoss"/> is not a 0-dimensional floating-point tensor, or a regularizer refuses the output.
    /// </exception>
    public TrainingObjectiveResult Compute(Tensor rankingLoss, BiEncoderOutput output) => ComputeCore(rankingLoss, output, null);

    /// <summary>
    /// Collects every regularizer's split-batch statistics of one part of a batch
    /// (<see cref="RegularizationLossFunction.CollectStatistics"/>), for <see cref="Compute(Tensor, BiEncoderOutput, TrainingObjectiveStatistics)"/>.
    /// </summary>
    /// <param name="output">The bi-encoder output of one part.</param>
    /// <returns>The statistics, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">A regularizer refuses the output.</exception>
    /// <exception cref="NotSupportedException">A regularizer does not support split batches.</exception>
    public TrainingObjectiveStatistics CollectStatistics(BiEncoderOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var scope = NewDisposeScope();
        var statistics = new TrainingObjectiveStatistics(regularizers.Select(r => r.Regularizer.CollectStatistics(output)).ToList());
        return statistics.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Computes one part's share of the objective of a split batch: <paramref name="rankingLoss"/> (the part's share of the
    /// ranking loss, which the caller scales) plus each regularizer's exact share
    /// (<see cref="RegularizationLossFunction.ComputeLoss(BiEncoderOutput, RegularizationStatistics)"/>). The reported parts are
    /// this part's shares; summed over the parts they give the whole batch's.
    /// </summary>
    /// <param name="rankingLoss">This part's share of the ranking loss, a 0-dimensional floating-point tensor.</param>
    /// <param name="part">The bi-encoder output of this part.</param>
    /// <param name="total">The statistics of the whole batch, collected by this objective.</param>
    /// <returns>The part's objective tensor, in the caller's dispose scope, and every part as a number.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Compute(Tensor, BiEncoderOutput)"/>, or <paramref name="total"/> does not match the objective or the part.</exception>
    public TrainingObjectiveResult Compute(Tensor rankingLoss, BiEncoderOutput part, TrainingObjectiveStatistics total)
    {
        ArgumentNullException.ThrowIfNull(total);
        if (total.RegularizerStatistics.Count != regularizers.Count)
        {
            throw new ArgumentException(
                $"The statistics hold {total.RegularizerStatistics.Count} regularizers but the objective has {regularizers.Count}: collect them with this objective.",
                nameof(total));
        }

        return ComputeCore(rankingLoss, part, total);
    }

    private TrainingObjectiveResult ComputeCore(Tensor rankingLoss, BiEncoderOutput output, TrainingObjectiveStatistics? total)
    {
        ArgumentNullException.ThrowIfNull(rankingLoss);
        ArgumentNullException.ThrowIfNull(output);
        if (rankingLoss.IsInvalid || rankingLoss.dim() != 0 || !rankingLoss.is_floating_point())
        {
            throw new ArgumentException(
                "The ranking loss must be a live 0-dimensional floating-point tensor (a reduced loss), "
                + (rankingLoss.IsInvalid ? "but it has been disposed." : $"but has shape {Guard.Format(rankingLoss.shape)} and dtype {rankingLoss.dtype}."),
                nameof(rankingLoss));
        }

        using var scope = NewDisposeScope();
        var names = new List<string> { RankingLossName };
        var budgetNames = new List<(string Name, SparsityBudget Budget)>();
        var parts = new List<Tensor> { rankingLoss };
        var objective = rankingLoss.mul(RankingWeight);
        for (var i = 0; i < regularizers.Count; i++)
        {
            var (regularizer, weight) = regularizers[i];
            var name = Unique(names, regularizer.Name);
            var components = total is null
                ? regularizer.ComputeLossComponents(output)
                : regularizer.ComputeLossComponents(output, total.RegularizerStatistics[i]);
            names.AddRange([name, name + "/query", name + "/doc"]);
            if (budgets[i] is { } budget)
            {
                budgetNames.Add((name, budget));
            }

            parts.AddRange([components.Total, components.Query, components.Doc]);
            objective = objective.add(components.Total.mul(weight));
        }

        names.Add(ObjectiveName);
        parts.Add(objective);
        var values = stack(parts.Select(p => p.detach().to(ScalarType.Float64))).cpu().data<double>().ToArray();
        var report = new Dictionary<string, double>(names.Count, StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            report.Add(names[i], values[i]);
        }

        foreach (var (name, budget) in budgetNames)
        {
            AddBudget(report, name, budget);
        }

        return new TrainingObjectiveResult(objective.MoveToOuterDisposeScope(), report);
    }

    /// <summary>A budget's weights, measurements and targets, from the host: no device read.</summary>
    private static void AddBudget(Dictionary<string, double> report, string name, SparsityBudget budget)
    {
        report.Add(name + "/query_weight", budget.Regularizer.QueryWeight);
        report.Add(name + "/doc_weight", budget.Regularizer.DocWeight);
        void AddMeasured(string key, double? measured, double? target)
        {
            if (measured is double value)
            {
                report.Add($"{name}/{key}", value);
                report.Add($"{name}/{key}_target", target!.Value);
            }
        }

        AddMeasured("query_l0", budget.MeasuredQueryL0, budget.CurrentQueryL0Target);
        AddMeasured("doc_l0", budget.MeasuredDocL0, budget.CurrentDocL0Target);
        AddMeasured("flops", budget.MeasuredFlops, budget.CurrentFlopsTarget);
        if (budget.Step > 0)
        {
            report.Add(name + "/status", (int)budget.Status);
        }
    }

    private static string Unique(List<string> taken, string name)
    {
        var candidate = name;
        for (var n = 2; candidate == ObjectiveName || taken.Contains(candidate, StringComparer.Ordinal); n++)
        {
            candidate = $"{name}#{n}";
        }

        return candidate;
    }
}
