using static TorchSharp.torch.autograd;

namespace LightningIr.Regularization;

/// <summary>
/// The unmasked penalties and split-batch shares as custom autograd functions whose backward pass writes the
/// embedding-sized gradient into one buffer. The forward passes are the same ops as <see cref="Penalties"/>. Each
/// backward first computes the small per-vector or per-term factor exactly as ATen's chain of backward formulas does
/// (mean, pow, mul, div, casts), then applies ATen's last, embedding-sized step (<c>sgn(x) · g</c> for |x| and the
/// 1-norm, <c>g · x / ‖x‖</c> for the 2-norm) in place on a single new tensor. The bits therefore match the
/// literal op sequence, while ATen's embedding-sized temporaries (the sign, the quotient, the masked fill) are never
/// allocated.
/// </summary>
/// <remarks>
/// TorchSharp wraps the incoming gradient in a tensor it never disposes, and the returned gradient's wrapper outlives
/// the call (holding a reference that also makes autograd copy a fresh leaf gradient rather than adopt it). The
/// backward passes dispose the first; the second joins the dispose scope current when autograd runs them and is
/// released at the next fused backward pass or library call on the thread, if that comes earlier. <see cref="Applies"/>
/// only chooses this path on the CPU (where backward runs on the caller's thread) and when the caller has a dispose
/// scope (<see cref="CallScope.CallerHasDisposeScope"/>); otherwise ATen's own backward runs, which leaves nothing to
/// dispose.
/// </remarks>
internal static class FusedPenalties
{
    /// <summary>
    /// The smallest embeddings the fused path is used for (512 Ki elements, 2 MiB in float32). Below it, the custom
    /// function's managed bookkeeping (a graph node, callbacks, lists) and autograd's copy of a fresh leaf gradient cost
    /// as much as the buffers it saves, or more (measured in the README).
    /// </summary>
    public const long MinimumElements = 1 << 19;

    private static readonly long[] LastDim = [-1];
    private static readonly long[] BatchDim = [0];

    /// <summary>
    /// The wrapper of the gradient this thread's last fused backward pass returned, until it is released: each backward
    /// pass releases the previous one's before it returns its own, so there is at most one.
    /// </summary>
    [ThreadStatic] private static Tensor? returnedGradient;

    /// <summary>Whether the penalty of <paramref name="embeddings"/> takes the fused path (see the class remarks).</summary>
    public static bool Applies(Tensor embeddings) =>
        CallScope.CallerHasDisposeScope
        && embeddings.device_type == DeviceType.CPU
        && embeddings.numel() >= MinimumElements;

    /// <summary>
    /// Whether the <c>sgn(x) · g</c> penalties (L1 and FLOPS) take the fused path: as <see cref="Applies"/>, except for a leaf
    /// without a gradient yet. Autograd would copy the fused gradient into that leaf's new <c>.grad</c> (see the class
    /// remarks), one pass more than ATen's backward, whose product it adopts; for L2 the fused path still saves ATen's
    /// masked fill.
    /// </summary>
    public static bool AppliesToSign(Tensor embeddings)
    {
        if (!Applies(embeddings))
        {
            return false;
        }

        if (!embeddings.is_leaf)
        {
            return true;
        }

        using var gradient = embeddings.grad;
        return gradient is not null;
    }

    /// <summary><c>mean(‖x‖_ord)</c> over every vector, ord 1 or 2, without a mask.</summary>
    public static Tensor MeanVectorNorm(Tensor embeddings, double ord) => MeanVectorNormFunction.apply(embeddings, ord);

    /// <summary>
    /// A part's share of <see cref="MeanVectorNorm"/>: the part's norm sum (in float64) divided by
    /// <paramref name="count"/>, the whole batch's vector count (float64, 0-dimensional, at least 1).
    /// </summary>
    public static Tensor VectorNormShare(Tensor embeddings, double ord, Tensor count) => VectorNormShareFunction.apply(embeddings, ord, count);

    /// <summary><c>Σ w · (mean over the batch of |x|)²</c> without masks or thresholds; <paramref name="termWeights"/> in the embeddings' dtype, or null.</summary>
    public static Tensor Flops(Tensor embeddings, Tensor? termWeights) => FlopsFunction.apply(embeddings, termWeights!); // null: no weights

    /// <summary>
    /// A part's share of <see cref="Flops"/>: <c>t = Σ c · (column sums of |x|) / B</c> with the per-term
    /// <paramref name="coefficient"/> <c>c</c> (the whole batch's means times the term weights, in the embeddings' dtype),
    /// valued <c>2t − t</c> as the plain path and with the gradient of <c>2t</c>.
    /// </summary>
    public static Tensor FlopsShare(Tensor embeddings, Tensor coefficient, long totalRows) => FlopsShareFunction.apply(embeddings, coefficient, totalRows);

    /// <summary>
    /// Disposes the wrapper of the gradient this thread's last fused backward pass returned. Autograd has its own
    /// reference by then, so this only ends the wrapper's hold on the buffer; a wrapper its scope already disposed is
    /// skipped.
    /// </summary>
    public static void ReleaseReturnedGradient()
    {
        returnedGradient?.Dispose();
        returnedGradient = null;
    }

    /// <summary>
    /// ATen's backward of <c>‖x‖_ord</c> over the last dimension, given the incoming gradient per vector: <c>sgn(x) · g</c>
    /// for ord 1, <c>g · x / ‖x‖</c> (0 where the norm is 0) for ord 2.
    /// </summary>
    private static Tensor NormGradient(Tensor embeddings, Tensor norms, double ord, Tensor perVector)
    {
        var factor = perVector.unsqueeze(-1);
        return ord == 1
            ? embeddings.sgn().mul_(factor)
            : embeddings.div(norms.masked_fill(norms.eq(0), 1).unsqueeze(-1)).mul_(factor);
    }

    /// <summary>
    /// The plumbing the four functions share. The forward pass saves the embeddings first among its tensors and the
    /// number of <c>apply</c> arguments; the backward pass releases what TorchSharp hands over and answers one entry per
    /// argument. Under <c>create_graph</c> (autograd enabled during backward) the fused formula would give a gradient
    /// whose graph misses the per-term factor's dependence on the embeddings, so the penalty is recomputed with ATen's
    /// differentiable ops and differentiated with <c>torch.autograd.grad</c>, keeping that graph (as PyTorch's
    /// <c>retain_graph</c> default under <c>create_graph</c> does): second derivatives stay exact, at the unfused cost.
    /// </summary>
    private abstract class FusedFunction<T> : SingleTensorFunction<T>
        where T : FusedFunction<T>, new()
    {
        public sealed override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("arguments", vars.Length);
            ctx.set_materialize_grads(false);
            return Forward(ctx, vars);
        }

        public sealed override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
        {
            ReleaseReturnedGradient(); // an earlier node's, whose output autograd has taken by now
            var arguments = (int)ctx.get_data("arguments");
            var gradients = new List<Tensor>(arguments);
            try
            {
                if (!grad_output.IsInvalid)
                {
                    gradients.Add(EmbeddingsGradient(ctx, grad_output));
                }
            }
            catch (Exception) // an exception cannot cross TorchSharp's native callback: it would end the process
            {
                gradients.Add(Refused());
            }
            finally
            {
                grad_output.Dispose(); // TorchSharp's wrapper of the incoming gradient, which it never disposes
            }

            while (gradients.Count < arguments)
            {
                gradients.Add(null!); // the order, weights and totals are not differentiated
            }

            return gradients;
        }

        /// <summary>The value, as the unfused penalty computes it, saving what <see cref="Gradient"/> and <see cref="Unfused"/> need.</summary>
        protected abstract Tensor Forward(AutogradContext ctx, object[] vars);

        /// <summary>The embeddings' gradient, the embedding-sized step written into one new tensor.</summary>
        protected abstract Tensor Gradient(AutogradContext ctx, List<Tensor> saved, Tensor gradOutput);

        /// <summary>The same penalty of <c>saved[0]</c> through ATen's differentiable ops, for <c>create_graph</c>.</summary>
        protected abstract Tensor Unfused(AutogradContext ctx, List<Tensor> saved);

        /// <summary>
        /// What a failed backward pass (out of memory, or embeddings changed in place after the forward pass) returns: a
        /// 0-element gradient, whose shape autograd rejects, so that <c>backward()</c> throws where the caller can catch it.
        /// </summary>
        private static Tensor Refused()
        {
            Tensor refused;
            using (NewDisposeScope())
            {
                refused = empty(0).MoveToOuterDisposeScope();
            }

            returnedGradient = refused;
            return refused;
        }

        /// <summary>
        /// Computes the gradient in a scope of its own and hands its wrapper to the scope current on this thread (if any)
        /// and to <see cref="ReleaseReturnedGradient"/>, whichever comes first: the next fused backward pass or library
        /// call, or the end of that scope.
        /// </summary>
        private Tensor EmbeddingsGradient(AutogradContext ctx, Tensor gradOutput)
        {
            Tensor gradient;
            using (NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                gradient = is_grad_enabled()
                    ? autograd.grad([Unfused(ctx, saved)], [saved[0]], [gradOutput], retain_graph: true, create_graph: true)[0]
                    : Gradient(ctx, saved, gradOutput);
                gradient.MoveToOuterDisposeScope();
            }

            returnedGradient = gradient;
            return gradient;
        }
    }

    private sealed class MeanVectorNormFunction : FusedFunction<MeanVectorNormFunction>
    {
        public override string Name => nameof(MeanVectorNormFunction);

        protected override Tensor Forward(AutogradContext ctx, object[] vars)
        {
            var (embeddings, ord) = ((Tensor)vars[0], (double)vars[1]);
            var norms = linalg.vector_norm(embeddings, ord, LastDim);
            ctx.save_for_backward([embeddings, norms]);
            ctx.save_data(nameof(ord), ord);
            return norms.mean();
        }

        protected override Tensor Gradient(AutogradContext ctx, List<Tensor> saved, Tensor gradOutput)
        {
            var norms = saved[1];
            var perVector = gradOutput.expand(norms.shape).div(norms.numel()); // mean's backward
            return NormGradient(saved[0], norms, (double)ctx.get_data("ord"), perVector);
        }

        protected override Tensor Unfused(AutogradContext ctx, List<Tensor> saved)
            => Penalties.UnfusedMeanVectorNorm(saved[0], (double)ctx.get_data("ord"));
    }

    private sealed class VectorNormShareFunction : FusedFunction<VectorNormShareFunction>
    {
        public override string Name => nameof(VectorNormShareFunction);

        protected override Tensor Forward(AutogradContext ctx, object[] vars)
        {
            var (embeddings, ord, count) = ((Tensor)vars[0], (double)vars[1], (Tensor)vars[2]);
            var norms = linalg.vector_norm(embeddings, ord, LastDim);
            ctx.save_for_backward([embeddings, norms, count]);
            ctx.save_data(nameof(ord), ord);
            return norms.to(ScalarType.Float64).sum().div(count).to(embeddings.dtype);
        }

        protected override Tensor Gradient(AutogradContext ctx, List<Tensor> saved, Tensor gradOutput)
        {
            var (embeddings, norms) = (saved[0], saved[1]);
            // The casts', the division's and the sum's backward, in ATen's order.
            var perVector = gradOutput.to(ScalarType.Float64).div(saved[2]).expand(norms.shape).to(embeddings.dtype);
            return NormGradient(embeddings, norms, (double)ctx.get_data("ord"), perVector);
        }

        protected override Tensor Unfused(AutogradContext ctx, List<Tensor> saved)
            => Penalties.UnfusedVectorNormShare(saved[0], (double)ctx.get_data("ord"), null, saved[2]);
    }

    private sealed class FlopsFunction : FusedFunction<FlopsFunction>
    {
        public override string Name => nameof(FlopsFunction);

        protected override Tensor Forward(AutogradContext ctx, object[] vars)
        {
            var embeddings = (Tensor)vars[0];
            var termWeights = (Tensor?)vars[1];
            Tensor means;
            using (var magnitude = embeddings.abs())
            {
                means = Penalties.BatchMean(magnitude);
            }

            ctx.save_for_backward(termWeights is null ? [embeddings, means] : [embeddings, means, termWeights]);
            var squared = means.pow(2);
            return termWeights is null ? squared.sum() : squared.mul(termWeights).sum();
        }

        protected override Tensor Gradient(AutogradContext ctx, List<Tensor> saved, Tensor gradOutput)
        {
            var (embeddings, means) = (saved[0], saved[1]);
            var perTerm = gradOutput.expand(means.shape);                        // sum's backward
            if (saved.Count > 2)
            {
                perTerm = perTerm.mul(saved[2]);                                  // the weights'
            }

            perTerm = perTerm.mul(means.mul(2)).div(embeddings.shape[0]);         // pow's, then the batch mean's
            return embeddings.sgn().mul_(perTerm);                                // abs's
        }

        protected override Tensor Unfused(AutogradContext ctx, List<Tensor> saved)
            => Penalties.UnfusedFlops(saved[0], null, null, saved.Count > 2 ? saved[2] : null);
    }

    private sealed class FlopsShareFunction : FusedFunction<FlopsShareFunction>
    {
        public override string Name => nameof(FlopsShareFunction);

        protected override Tensor Forward(AutogradContext ctx, object[] vars)
        {
            var (embeddings, coefficient, totalRows) = ((Tensor)vars[0], (Tensor)vars[1], (long)vars[2]);
            Tensor partMeans;
            using (var magnitude = embeddings.abs())
            {
                partMeans = magnitude.sum(BatchDim).div(totalRows);
            }

            ctx.save_for_backward([embeddings, coefficient]);
            ctx.save_data(nameof(totalRows), totalRows);
            var share = partMeans.mul(coefficient).sum();
            return share.mul(2).sub(share);
        }

        protected override Tensor Gradient(AutogradContext ctx, List<Tensor> saved, Tensor gradOutput)
        {
            var (embeddings, coefficient) = (saved[0], saved[1]);
            // 2t's, the sum's, the coefficient's and the division's backward, in ATen's order.
            var perTerm = gradOutput.mul(2).expand(coefficient.shape).mul(coefficient).div((long)ctx.get_data("totalRows"));
            return embeddings.sgn().mul_(perTerm);                                // abs's
        }

        protected override Tensor Unfused(AutogradContext ctx, List<Tensor> saved)
            => Penalties.UnfusedFlopsShare(saved[0], null, null, saved[1], (long)ctx.get_data("totalRows"));
    }
}
