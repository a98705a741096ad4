using TorchSharp;
using static TorchSharp.torch;

namespace LightningIr.Regularization.TestSupport;

/// <summary>Inputs shaped like SPLADE's activations, log(1 + relu(x)): non-negative and mostly zero.</summary>
public static class SpladeLike
{
    /// <summary>A leaf tensor that requires grad; its intermediates are released at once.</summary>
    public static Tensor Embeddings(params long[] shape)
    {
        using var scope = NewDisposeScope();
        return randn(shape).sub(1.5).relu().log1p().requires_grad_().MoveToOuterDisposeScope();
    }
}
