namespace LightningIr.Regularization;

/// <summary>Argument checks shared by the regularizers: metadata only, never a host synchronisation.</summary>
internal static class EmbeddingValidation
{
    /// <summary>Throws unless <paramref name="value"/> is a finite, non-negative regularization weight.</summary>
    public static double CheckWeight(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(
                paramName, value, $"A regularization weight must be a finite number ≥ 0, but {paramName} was {value}.");
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

        if (!SameDevice(mask, embeddings))
        {
            throw new ArgumentException(
                $"The {side} scoring mask is on {mask.device} but its embeddings are on {embeddings.device}; put both on one device.", paramName);
        }
    }

    /// <summary>Whether two tensors live on the same device (type and index).</summary>
    public static bool SameDevice(Tensor a, Tensor b) => a.device_type == b.device_type && a.device_index == b.device_index;

    /// <summary>Formats a shape the way PyTorch prints it: <c>[4, 8, 4]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
