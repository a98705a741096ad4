using FluentAssertions;
using PackageSearch;
using Xunit;
using static TorchSharp.torch;

namespace PackageSearch.Tests;

public sealed class EncoderTests
{
    [Fact]
    public void An_untrained_encoder_is_a_bag_of_the_texts_own_terms_and_ignores_padding()
    {
        manual_seed(1);
        using var encoder = new ExpansionEncoder(vocabularySize: 50, hiddenSize: 8);
        var pad = encoder.PaddingId;
        using var tokens = tensor(new long[] { 3, 7, 3, pad, 9, pad, pad, pad }, [2, 4]);

        using var vectors = encoder.call(tokens);

        vectors.shape.Should().Equal(2, 1, 50);
        var first = SparseVector.FromDense(vectors[0, 0].data<float>().ToArray());
        var second = SparseVector.FromDense(vectors[1, 0].data<float>().ToArray());
        first.Terms.Should().Equal(3, 7);
        second.Terms.Should().Equal(9);
        first.Weights[0].Should().BeGreaterThan(first.Weights[1], "a term twice in the text counts twice");
    }

    [Fact]
    public void Padding_does_not_change_a_texts_vector()
    {
        manual_seed(2);
        using var encoder = new ExpansionEncoder(vocabularySize: 30, hiddenSize: 8);
        var pad = encoder.PaddingId;
        using var shortRow = tensor(new long[] { 4, 5 }, [1, 2]);
        using var padded = tensor(new long[] { 4, 5, pad, pad }, [1, 4]);

        using var a = encoder.call(shortRow);
        using var b = encoder.call(padded);

        b.allclose(a, rtol: 0, atol: 1e-6).Should().BeTrue();
    }
}
