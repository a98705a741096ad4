using FluentAssertions;
using PackageSearch;
using Sylvan.Data.Csv;
using Xunit;

namespace PackageSearch.Tests;

public sealed class ReportTests
{
    private static SettingResult Result(string name, SettingKind kind, double mrr, long postings = 1000) => new(
        name, kind, mrr, 0.9, 33.5, 5.6, kind == SettingKind.Keyword ? null : 40.2, new PostingStatistics(postings, 50, 2, [50, 20]),
        0.2, 0.4, 0.3, 0.6, 700, kind == SettingKind.Keyword ? 0 : 61.5, [mrr, mrr])
    {
        VersusBm25 = kind == SettingKind.Keyword ? null : new PairedDifference(0.01, -0.002, 0.021),
        VersusBestKeyword = kind == SettingKind.Keyword ? null : new PairedDifference(-0.003, -0.01, 0.004),
    };

    [Fact]
    public void Results_csv_is_RFC_4180_that_another_reader_reads_back_names_with_commas_and_quotes_included()
    {
        var folder = Directory.CreateTempSubdirectory().FullName;
        var results = new[]
        {
            Result("BM25", SettingKind.Keyword, 0.633),
            Result("BM25, k1 0.9 b 0.4", SettingKind.Keyword, 0.654),
            Result("DF-FLOPS, budget 33 \"doc\"", SettingKind.Trained, 0.66) with
            {
                MatchedPruned = "λ = 0, top k per document, at x",
                VersusMatchedPruned = new PairedDifference(0.02, 0.005, 0.035),
                VersusStart = new PairedDifference(-0.01, -0.02, 0.001),
            },
            Result("λ = 0, top k per document, at x", SettingKind.Pruned, 0.64) with { PrunedFrom = "trained, λ = 0" },
        };
        var path = Report.WriteCsv(folder, results);
        using var csv = CsvDataReader.Create(path);
        Enumerable.Range(0, csv.FieldCount).Select(csv.GetName).Should().Equal(Report.CsvColumns);
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(Report.CsvColumns.ToDictionary(c => c, c => csv.GetString(csv.GetOrdinal(c))));
        }

        rows.Select(r => r["setting"]).Should().Equal(results.Select(r => r.Setting));
        rows[1]["mrr_at_10"].Should().Be("0.654");
        rows[0]["mrr_diff_vs_bm25_low"].Should().BeEmpty("keyword rows have no interval");
        rows[0]["encoder_doc_l0"].Should().BeEmpty();
        rows[2]["mrr_diff_vs_bm25_low"].Should().Be("-0.002");
        rows[2]["mrr_diff_vs_best_keyword_low"].Should().Be("-0.01");
        rows[2]["best_keyword"].Should().Be("BM25, k1 0.9 b 0.4");
        rows[2]["end_to_end_median_ms"].Should().Be("0.3");
        rows.Select(r => r["kind"]).Should().Equal("keyword", "keyword", "trained", "pruned");
        rows[3]["pruned_from"].Should().Be("trained, λ = 0");
        rows[2]["pruned_from"].Should().BeEmpty();
        rows[2]["matched_pruned"].Should().Be("λ = 0, top k per document, at x");
        rows[2]["mrr_diff_vs_matched_pruned"].Should().Be("0.02");
        rows[2]["mrr_diff_vs_matched_pruned_low"].Should().Be("0.005");
        rows[2]["mrr_diff_vs_matched_pruned_high"].Should().Be("0.035");
        rows[2]["mrr_diff_vs_start_low"].Should().Be("-0.02");
        rows[2]["mrr_diff_vs_start_high"].Should().Be("0.001");
        rows[3]["mrr_diff_vs_matched_pruned"].Should().BeEmpty("only trained rows are compared with their matched pruned row");
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void The_paired_bootstrap_interval_holds_the_mean_difference_and_is_zero_for_identical_systems()
    {
        var random = new Random(5);
        var a = Enumerable.Range(0, 500).Select(_ => random.NextDouble()).ToArray();
        PairedBootstrap.Interval(a, a, 1000, 1).Should().Be(new PairedDifference(0, 0, 0));
        var better = a.Select(x => x + 0.05).ToArray();
        var shifted = PairedBootstrap.Interval(better, a, 1000, 1);
        shifted.Mean.Should().BeApproximately(0.05, 1e-12);
        shifted.Low.Should().BeApproximately(0.05, 1e-12, "a constant shift has no spread");
        var noisy = a.Select(x => x + 0.05 - (random.NextDouble() * 0.1)).ToArray();
        var interval = PairedBootstrap.Interval(noisy, a, 2000, 1);
        interval.Low.Should().BeLessThan(interval.Mean);
        interval.High.Should().BeGreaterThan(interval.Mean);
        FluentActions.Invoking(() => PairedBootstrap.Interval(a, a[..10], 1000, 1)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void A_trained_row_is_compared_with_the_best_pruned_row_within_two_percent_of_its_postings()
    {
        var trained = Result("budget", SettingKind.Trained, 0.7, postings: 100_000);
        var results = new[]
        {
            trained,
            Result("near, worse", SettingKind.Pruned, 0.69, postings: 101_900),
            Result("near, better", SettingKind.Pruned, 0.71, postings: 98_000),
            Result("too big", SettingKind.Pruned, 0.9, postings: 102_100),
            Result("too small", SettingKind.Pruned, 0.9, postings: 97_900),
            Result("a trained row of the same size", SettingKind.Trained, 0.95, postings: 100_000),
        };
        Evaluation.MatchedPruned(results, trained)!.Setting.Should().Be("near, better");
        Evaluation.MatchedPruned(results[..1], trained).Should().BeNull("no pruned row is within 2%");
    }

    [Fact]
    public void The_index_order_is_a_seeded_shuffle_that_keeps_the_held_out_documents_apart_from_the_lowest_document_numbers()
    {
        var corpus = EncoderTests.Corpus();
        corpus.IndexOrder.Order().Should().Equal(Enumerable.Range(0, corpus.Documents.Count));
        var firstHundred = corpus.IndexOrder.Take(corpus.EvaluationTargets.Length).Count(d => d < corpus.EvaluationTargets.Length);
        firstHundred.Should().BeLessThan(30, "about 100 × 100 / 1,400 held-out documents fall among the first 100 by chance");
        EncoderTests.Corpus().IndexOrder.Should().Equal(corpus.IndexOrder, "the order is seeded");
    }
}
