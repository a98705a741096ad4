using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SampleSupport;

/// <summary>
/// A small SPLADE-style encoder: token embeddings, a projection onto the vocabulary, log(1 + ReLU),
/// and a max-pool over the tokens, giving one non-negative vocabulary-sized vector per text, shaped
/// [batch, 1, vocab] like Lightning IR's SPLADE output.
/// </summary>
public sealed class SparseEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly Linear context;
    private readonly Linear projection;

    public SparseEncoder(int vocabularySize, int hiddenSize) : base(nameof(SparseEncoder))
    {
        embedding = nn.Embedding(vocabularySize, hiddenSize);
        context = nn.Linear(hiddenSize, hiddenSize);
        projection = nn.Linear(hiddenSize, vocabularySize);
        RegisterComponents();
    }

    /// <summary>Encodes token ids [batch, length] into term weights [batch, 1, vocab].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var hidden = embedding.call(tokens);                                   // [batch, length, hidden]
        hidden = hidden + nn.functional.tanh(context.call(hidden.mean([1], keepdim: true)));
        var weights = nn.functional.relu(projection.call(hidden)).log1p();    // [batch, length, vocab]
        return weights.amax([1], keepdim: true).MoveToOuterDisposeScope();     // max-pool: [batch, 1, vocab]
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
            context.Dispose();
            projection.Dispose();
        }

        base.Dispose(disposing);
    }
}
