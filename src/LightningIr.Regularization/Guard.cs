namespace LightningIr.Regularization;

/// <summary>Argument checks shared across the library: metadata only, never a host synchronisation, unless a member says so.</summary>
internal static class Guard
{
    /// <summary>Throws unless <paramref name="value"/> is a finite, non-negative weight.</summary>
    public static double CheckWeight(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(
                paramName, value, $"A weight must be a finite number ≥ 0, but {paramName} was {value}.");
        }

        return value;
    }

    /// <summary>Throws unless <paramref name="embeddings"/> is a non-empty floating-point tensor of rank ≥ 2.</summary>
    public static void CheckEmbeddings(Tensor embeddings, string side, string paramName)
    {
        CheckVectors(embeddings, side, paramName);
        if (!embeddings.is_floating_point())
        {
            throw new ArgumentException(
                $"The {side} embeddings must be a floating-point tensor (float16, bfloat16, float32 or float64), but have dtype {embeddings.dtype}.",
                paramName);
        }
    }

    /// <summary>Throws unless <paramref name="embeddings"/> is a live tensor of rank ≥ 2 with no empty dimension.</summary>
    public static void CheckVectors(Tensor embeddings, string side, string paramName)
    {
        ArgumentNullException.ThrowIfNull(embeddings, paramName);
        if (embeddings.IsInvalid)
        {
            throw new ArgumentException($"The {side} embeddings tensor has been disposed.", paramName);
        }

        var shape = embeddings.shape;
        if (shape.Length < 2)
        {
            throw new ArgumentException(
                $"The {side} embeddings must have shape [batch, ..., dim] (rank 2 or more), but have shape {Format(shape)}.",
                paramName);
        }

        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 0)
            {
                var what = i == 0 ? "an empty batch" : $"an empty dimension {i}";
                throw new ArgumentException(
                    $"The {side} embeddings have {what} (shape {Format(shape)}); every dimension must be at least 1, otherwise the mean is undefined.",
                    paramName);
            }
        }
    }

    /// <summary>Throws unless <paramref name="mask"/> is a boolean [batch, ...] tensor matching <paramref name="embeddings"/> without its last dimension.</summary>
    public static void CheckScoringMask(Tensor mask, Tensor embeddings, string side, string paramName)
    {
        if (mask.IsInvalid)
        {
            throw new ArgumentException($"The {side} scoring mask has been disposed.", paramName);
        }

        if (mask.dtype != ScalarType.Bool)
        {
            throw new ArgumentException(
                $"The {side} scoring mask must be a boolean tensor (true = real vector), but has dtype {mask.dtype}.", paramName);
        }

        var expected = embeddings.shape[..^1];
        if (!mask.shape.AsSpan().SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"The {side} scoring mask must have shape {Format(expected)} (the embeddings' shape {Format(embeddings.shape)} without its last dimension), but has shape {Format(mask.shape)}.",
                paramName);
        }

        CheckSameDevice(mask, $"{side} scoring mask", embeddings, $"{side} embeddings", paramName);
    }

    /// <summary>Throws unless <paramref name="threshold"/> is null or ≥ 0.</summary>
    public static int? CheckThreshold(int? threshold, string paramName)
    {
        if (threshold < 0)
        {
            throw new ArgumentOutOfRangeException(
                paramName, threshold, $"An activation threshold must be ≥ 0 (or null for none), but {paramName} was {threshold}.");
        }

        return threshold;
    }

    /// <summary>Throws unless <paramref name="weights"/> is a live floating-point tensor (metadata only).</summary>
    public static void CheckTermWeightsType(Tensor weights, string paramName)
    {
        if (weights.IsInvalid)
        {
            throw new ArgumentException("The term weights tensor has been disposed.", paramName);
        }

        if (!weights.is_floating_point())
        {
            throw new ArgumentException($"Term weights must be a floating-point tensor, but have dtype {weights.dtype}.", paramName);
        }
    }

    /// <summary>
    /// Throws unless <paramref name="weights"/> is a live floating-point tensor whose values are finite and ≥ 0.
    /// Reads one value back to the host: call it when the weights are set, not in a loss.
    /// </summary>
    public static Tensor CheckTermWeights(Tensor weights, string paramName)
    {
        CheckTermWeightsType(weights, paramName);
        using (NewDisposeScope())
        {
            var bad = weights.isfinite().logical_not().logical_or(weights.lt(0)).any().cpu().item<bool>();
            if (bad)
            {
                throw new ArgumentOutOfRangeException(paramName, "Term weights must all be finite and ≥ 0, but some are negative, infinite or NaN.");
            }
        }

        return weights;
    }

    /// <summary>Throws unless <paramref name="weights"/> lives on <paramref name="embeddings"/>' device and broadcasts to its shape without the batch dimension.</summary>
    public static void CheckTermWeightsFit(Tensor weights, Tensor embeddings, string side, string paramName)
    {
        if (weights.IsInvalid)
        {
            throw new ArgumentException($"The {side} term weights tensor has been disposed since it was set.", paramName);
        }

        var vector = embeddings.shape[1..];
        var shape = weights.shape;
        var fits = shape.Length <= vector.Length;
        for (var i = 1; fits && i <= shape.Length; i++)
        {
            fits = shape[^i] == 1 || shape[^i] == vector[^i];
        }

        if (!fits)
        {
            throw new ArgumentException(
                $"The {side} term weights have shape {Format(shape)}, which does not broadcast to the {side} vectors' shape {Format(vector)} (the embeddings' shape {Format(embeddings.shape)} without the batch dimension).",
                paramName);
        }

        CheckSameDevice(weights, $"{side} term weights", embeddings, $"{side} embeddings", paramName);
    }

    /// <summary>Throws the one device-mismatch message unless both tensors live on the same device.</summary>
    public static void CheckSameDevice(Tensor a, string aName, Tensor b, string bName, string paramName)
    {
        if (!SameDevice(a.device, b.device))
        {
            throw new ArgumentException(DeviceMismatch(aName, a.device, bName, b.device), paramName);
        }
    }

    /// <summary>The device types whose tensors cannot be float64: TorchSharp's MPS. The internal tests add <c>meta</c> to drive the refusals.</summary>
    internal static readonly HashSet<DeviceType> WithoutFloat64 = [DeviceType.MPS];

    /// <summary>
    /// Throws a <see cref="NotSupportedException"/> on a device without float64 (TorchSharp's MPS, Apple's GPU), where
    /// <paramref name="what"/>, float64 by design, could not be computed: the message names the device and what to do.
    /// </summary>
    public static void CheckFloat64(Device device, string what, string instead, string paramName)
    {
        if (WithoutFloat64.Contains(device.type))
        {
            throw new NotSupportedException(
                $"{what} are float64, which the {device} device does not support ({paramName} is on it): {instead}.");
        }
    }

    /// <summary>The message for two things on different devices.</summary>
    private static string DeviceMismatch(string aName, Device a, string bName, Device b)
        => $"Found the {aName} on {a} and the {bName} on {b}; put both on one device.";

    /// <summary>Whether two devices are the same (type and index).</summary>
    private static bool SameDevice(Device a, Device b) => a.type == b.type && a.index == b.index;

    /// <summary>Formats a shape the way PyTorch prints it: <c>[4, 8, 4]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
