using static TorchSharp.torch.autograd;

namespace LightningIr.Regularization;

// Custom autograd functions for the three penalties. Each computes the forward value with the same ATen
// ops as Lightning IR's code and a backward pass that does PyTorch's arithmetic in fewer passes over the
// embeddings: autograd's chain for these formulas materialises several embedding-sized temporaries
// (mean's expanded gradient, sgn(x), x / ‖x‖), while these write the gradient into a single new tensor.
// The values are the same numbers: every gradient entry is produced by the same operations, in the same
// dtype and order, as libtorch's derivative formulas (sgn(x) · (g·2m / n) for FLOPS, sgn(x) · g / N for L1,
// (x / ‖x‖) · (g / N) for L2, with 0 for an all-zero vector); FusedBackwardTests checks it bit for bit.
// Only first derivatives are provided.
//
// Memory: forward saves the input (which the caller keeps alive anyway) and one small tensor per penalty;
// every other intermediate is released before forward returns. backward releases the incoming gradient and
// its temporaries, and hands the gradient to the caller's dispose scope.

/// <summary>Σⱼ (mean over dim 0 of |x|)ⱼ², summed over every remaining position.</summary>
internal sealed class FlopsPenaltyFunction : SingleTensorFunction<FlopsPenaltyFunction>
{
    private static readonly long[] BatchDim = [0];

    public override string Name => nameof(FlopsPenaltyFunction);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        using var scope = NewDisposeScope();
        var batchMean = x.abs().mean(BatchDim);
        var penalty = batchMean.pow(2).sum();
        ctx.save_for_backward([x, batchMean.MoveToOuterDisposeScope()]);
        return penalty.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (x, batchMean) = (saved[0], saved[1]);
            // PyTorch: pow' = g · (2 m), mean' = that / n, abs' = that · sgn(x).
            var columnGradient = grad_output.mul(batchMean.mul(2)).div(x.shape[0]);
            var gradient = x.sgn().mul_(columnGradient).MoveToOuterDisposeScope();
            grad_output.Dispose();
            return [gradient];
        }
    }
}

/// <summary>mean over all vectors of ‖x‖₁ along the last dimension.</summary>
internal sealed class L1PenaltyFunction : SingleTensorFunction<L1PenaltyFunction>
{
    private static readonly long[] LastDim = [-1];

    public override string Name => nameof(L1PenaltyFunction);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        using var scope = NewDisposeScope();
        var penalty = linalg.vector_norm(x, 1, LastDim).mean();
        ctx.save_for_backward([x]);
        return penalty.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using (var scope = NewDisposeScope())
        {
            var x = ctx.get_saved_variables()[0];
            // PyTorch: mean' = g / N (N vectors), ‖·‖₁' = that · sgn(x).
            var vectorGradient = grad_output.div(x.numel() / x.shape[^1]);
            var gradient = x.sgn().mul_(vectorGradient).MoveToOuterDisposeScope();
            grad_output.Dispose();
            return [gradient];
        }
    }
}

/// <summary>mean over all vectors of ‖x‖₂ along the last dimension.</summary>
internal sealed class L2PenaltyFunction : SingleTensorFunction<L2PenaltyFunction>
{
    private static readonly long[] LastDim = [-1];

    public override string Name => nameof(L2PenaltyFunction);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        using var scope = NewDisposeScope();
        var norms = linalg.vector_norm(x, 2, LastDim, keepdim: true);
        var penalty = norms.mean();
        ctx.save_for_backward([x, norms.MoveToOuterDisposeScope()]);
        return penalty.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (x, norms) = (saved[0], saved[1]);
            // libtorch: mean' = g / N, ‖·‖₂' = (x / ‖x‖) · that, 0 where ‖x‖ = 0 (x is all zero there, so x / 1 = 0).
            var zero = norms.eq(0);
            var vectorGradient = grad_output.div(norms.numel()).expand_as(norms).masked_fill(zero, 0);
            var gradient = x.div(norms.masked_fill(zero, 1)).mul_(vectorGradient).MoveToOuterDisposeScope();
            grad_output.Dispose();
            return [gradient];
        }
    }
}
