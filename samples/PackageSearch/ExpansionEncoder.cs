using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PackageSearch;

/// <summary>
/// A sparse lexical-expansion encoder for real text, cheap enough to train three times on two CPU cores: a text's
/// vector is log(1 + ReLU(logits)) over the vocabulary, SPLADE's output, where the logits are an expansion term
/// (a projection of the text's contextual mean embedding onto the vocabulary) plus, for each term in the text, a
/// learned per-term weight times the term's frequency. The expansion bias starts at −3 and the per-term weights at 4,
/// so an untrained model is a sparse bag of words (SPLADE likewise starts from a language model that predicts the
/// input's own tokens); training learns term importance and expansion on top.
/// </summary>
/// <remarks>
/// SPLADE projects every token onto the vocabulary and max-pools; on 36,000 descriptions of 64 tokens that costs
/// 64 times more per text than projecting one pooled vector, which did not fit this sample's time budget.
/// Padding uses the id <see cref="PaddingId"/> (the vocabulary size) and is left out of the mean and the frequencies.
/// </remarks>
public sealed class ExpansionEncoder : nn.Module<Tensor, Tensor>
{
    private readonly int vocabularySize;
    private readonly Embedding embedding;
    private readonly Linear context;
    private readonly Linear projection;
    private readonly Embedding termWeights;

    public ExpansionEncoder(int vocabularySize, int hiddenSize) : base(nameof(ExpansionEncoder))
    {
        this.vocabularySize = vocabularySize;
        embedding = nn.Embedding(vocabularySize + 1, hiddenSize, padding_idx: vocabularySize);
        context = nn.Linear(hiddenSize, hiddenSize);
        projection = nn.Linear(hiddenSize, vocabularySize);
        termWeights = nn.Embedding(vocabularySize + 1, 1, padding_idx: vocabularySize);
        using (no_grad())
        {
            termWeights.weight![TensorIndex.Slice(0, vocabularySize)].fill_(4);
            projection.bias!.sub_(3);
        }

        RegisterComponents();
    }

    /// <summary>The token id that marks padding.</summary>
    public int PaddingId => vocabularySize;

    /// <summary>Encodes token ids [batch, length] (padded with <see cref="PaddingId"/>) into term weights [batch, 1, vocab].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var mask = tokens.ne(vocabularySize).unsqueeze(2);                                      // [batch, length, 1]
        var hidden = embedding.call(tokens);                                                     // padding rows are zero
        var mean = hidden.sum([1]).div(mask.sum([1]).clamp_min(1));                             // [batch, hidden]
        var expansion = projection.call(nn.functional.tanh(context.call(mean)));                 // [batch, vocab]
        var lexical = zeros(tokens.shape[0], vocabularySize + 1, dtype: expansion.dtype, device: expansion.device)
            .scatter_add_(1, tokens, termWeights.call(tokens).squeeze(2))                         // weight × frequency, padding in the last column
            .narrow(1, 0, vocabularySize);
        return nn.functional.relu(expansion + lexical).log1p().unsqueeze(1).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
            context.Dispose();
            projection.Dispose();
            termWeights.Dispose();
        }

        base.Dispose(disposing);
    }
}
