namespace LightningIr.Regularization.Tests;

/// <summary>Creates the losses by the names the fixtures use, and the theory data over them.</summary>
public static class TestLosses
{
    public static string[] Names => Regularizers.Names;

    public static readonly ScalarType[] FloatTypes = [ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64];

    /// <summary>Every loss name.</summary>
    public static TheoryData<string> All => new(Names);

    /// <summary>Every device this machine has: the CPU, and CUDA where TorchSharp sees a GPU (as TorchSharp's own tests do).</summary>
    public static IEnumerable<Device> Devices()
    {
        yield return CPU;
        if (cuda.is_available())
        {
            yield return CUDA;
        }
    }

    /// <summary>Every loss with every floating-point dtype on every available device.</summary>
    public static TheoryData<string, ScalarType, string> AllWithFloatTypesOnEveryDevice()
    {
        var data = new TheoryData<string, ScalarType, string>();
        foreach (var device in Devices())
        {
            foreach (var name in Names)
            {
                foreach (var dtype in FloatTypes)
                {
                    data.Add(name, dtype, device.ToString());
                }
            }
        }

        return data;
    }

    /// <summary>Every loss with every floating-point dtype.</summary>
    public static TheoryData<string, ScalarType> AllWithFloatTypes()
    {
        var data = new TheoryData<string, ScalarType>();
        foreach (var name in Names)
        {
            foreach (var dtype in FloatTypes)
            {
                data.Add(name, dtype);
            }
        }

        return data;
    }

    /// <summary>A bi-encoder output holding both sides, optionally with scoring masks.</summary>
    public static BiEncoderOutput Output(Tensor query, Tensor doc, Tensor? queryMask = null, Tensor? docMask = null)
        => new(QueryEmbeddings: new(query, queryMask), DocEmbeddings: new(doc, docMask));

    public static RegularizationLossFunction Create(string name, double queryWeight = 1e-4, double docWeight = 1e-4)
        => Regularizers.Create(name, queryWeight, docWeight);
}
