namespace LightningIr.Regularization.Tests;

/// <summary>Values, components and gradients against real PyTorch running Lightning IR's formulas.</summary>
public sealed class GoldenParityTests
{
    public static TheoryData<string> Cases => new(Fixtures.Losses.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_and_gradients_match_PyTorch(string name)
    {
        var c = Fixtures.Loss(name);
        using var scope = NewDisposeScope();
        var query = c.Query.ToTensor(c.ScalarType, requiresGrad: true);
        var doc = c.Doc.ToTensor(c.ScalarType, requiresGrad: true);
        var output = c.Output(query, doc);

        var loss = c.CreateLoss().ComputeLoss(output);
        loss.backward();

        loss.dtype.Should().Be(c.ScalarType);
        loss.shape.Should().BeEmpty();
        Tolerance.AssertClose(loss.to(ScalarType.Float64).item<double>(), c.ExpectedLoss, c.ScalarType, "loss");
        Tolerance.AssertClose(Values(query.grad!), c.ExpectedQueryGrad, c.ScalarType, "query gradient");
        Tolerance.AssertClose(Values(doc.grad!), c.ExpectedDocGrad, c.ScalarType, "document gradient");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Components_match_PyTorch_and_sum_to_the_loss(string name)
    {
        var c = Fixtures.Loss(name);
        using var scope = NewDisposeScope();
        var output = c.Output(c.Query.ToTensor(c.ScalarType), c.Doc.ToTensor(c.ScalarType));
        var lossFunction = c.CreateLoss();

        var components = lossFunction.ComputeLossComponents(output);
        var loss = lossFunction.ComputeLoss(output);

        Tolerance.AssertClose(components.Query.to(ScalarType.Float64).item<double>(), c.ExpectedQueryPart, c.ScalarType, "query part");
        Tolerance.AssertClose(components.Doc.to(ScalarType.Float64).item<double>(), c.ExpectedDocPart, c.ScalarType, "document part");
        components.Total.equal(loss).item<bool>().Should().BeTrue("Total is exactly what ComputeLoss returns");
        components.Total.equal(components.Query + components.Doc).item<bool>().Should().BeTrue();
    }

    public static TheoryData<string> SplittableCases
        => new(Fixtures.Losses.Where(c => c.Query.Shape[0] > 1 && c.Doc.Shape[0] > 1).Select(c => c.Name));

    [Theory]
    [MemberData(nameof(SplittableCases))]
    public void Split_batch_shares_add_up_to_PyTorchs_whole_batch_loss_and_gradients(string name)
    {
        var c = Fixtures.Loss(name);
        using var scope = NewDisposeScope();
        var query = c.Query.ToTensor(c.ScalarType, requiresGrad: true);
        var doc = c.Doc.ToTensor(c.ScalarType, requiresGrad: true);
        var whole = c.Output(query, doc);
        var loss = c.CreateLoss();
        // Two uneven parts: the first row of each side, then the rest.
        var parts = new[] { (0L, 1L, 0L, 1L), (1L, query.shape[0] - 1, 1L, doc.shape[0] - 1) }
            .Select(p => whole with
            {
                QueryEmbeddings = new(query.narrow(0, p.Item1, p.Item2), whole.QueryEmbeddings!.ScoringMask?.narrow(0, p.Item1, p.Item2)),
                DocEmbeddings = new(doc.narrow(0, p.Item3, p.Item4), whole.DocEmbeddings!.ScoringMask?.narrow(0, p.Item3, p.Item4)),
            })
            .ToList();

        var total = RegularizationStatistics.Sum(parts.Select(loss.CollectStatistics));
        var value = 0.0;
        foreach (var part in parts)
        {
            var share = loss.ComputeLoss(part, total);
            share.backward();
            value += share.to(ScalarType.Float64).item<double>();
        }

        Tolerance.AssertClose(value, c.ExpectedLoss, c.ScalarType, "sum of shares");
        Tolerance.AssertClose(Values(query.grad!), c.ExpectedQueryGrad, c.ScalarType, "query gradient");
        Tolerance.AssertClose(Values(doc.grad!), c.ExpectedDocGrad, c.ScalarType, "document gradient");
    }

    [Fact]
    public void Fixtures_cover_every_loss_dtype_and_edge_case()
    {
        Fixtures.Losses.Select(c => c.Loss).Distinct().Should().BeEquivalentTo(["L2", "L1", "FLOPS"]);
        Fixtures.Losses.Select(c => c.Dtype).Distinct().Should().BeEquivalentTo(["float16", "bfloat16", "float32", "float64"]);
        Fixtures.Losses.Should().Contain(c => c.ExpectedQueryGrad.All(g => g == 0) && c.Name.EndsWith("all-zero", StringComparison.Ordinal));
        Fixtures.Losses.Should().Contain(c => c.Query.Shape.Length == 2 && c.Query.Shape[0] == 1);
        Fixtures.Losses.Should().Contain(c => c.QueryWeight == 0);
    }

    internal static double[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }
}
