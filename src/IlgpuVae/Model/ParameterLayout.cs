using IlgpuVae.Kernels;

namespace IlgpuVae;

/// <summary>One named parameter tensor inside the flat buffer, in PyTorch's name and [out, in] layout.</summary>
public sealed record ParameterTensor(string Name, int[] Shape, int Offset)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>A dense layer's place in the flat parameter buffer and what follows it.</summary>
public sealed record DenseLayer(int Inputs, int Outputs, int WeightOffset, int BiasOffset, Activation Activation);

/// <summary>
/// Where each parameter lives in the one contiguous parameter buffer (and, at the same offsets, in the
/// gradient and optimizer-state buffers). Order: encoder.{i}.weight, encoder.{i}.bias, …, then the heads as
/// encoder.mu.weight, encoder.logvar.weight, encoder.mu.bias, encoder.logvar.bias — the two weights and the
/// two biases adjacent, so the heads run as one layer with 2k outputs — then decoder.{i}.*, decoder.out.*.
/// </summary>
public sealed class ParameterLayout
{
    readonly List<ParameterTensor> tensors = [];

    public IReadOnlyList<ParameterTensor> Tensors => tensors;
    public IReadOnlyList<DenseLayer> Encoder { get; }
    public IReadOnlyList<DenseLayer> Decoder { get; }
    public int Count { get; private set; }

    public ParameterLayout(ModelSpec spec)
    {
        var encoder = new List<DenseLayer>();
        int width = spec.InputDim;
        for (int i = 0; i < spec.EncoderHidden.Count; i++)
        {
            encoder.Add(AddLayer($"encoder.{i}", width, spec.EncoderHidden[i], spec.Activation));
            width = spec.EncoderHidden[i];
        }
        int k = spec.LatentDim;
        int muWeight = Add("encoder.mu.weight", k, width);
        Add("encoder.logvar.weight", k, width);
        int muBias = Add("encoder.mu.bias", k);
        Add("encoder.logvar.bias", k);
        encoder.Add(new DenseLayer(width, 2 * k, muWeight, muBias, Activation.Identity));

        var decoder = new List<DenseLayer>();
        width = k;
        for (int i = 0; i < spec.DecoderHidden.Count; i++)
        {
            decoder.Add(AddLayer($"decoder.{i}", width, spec.DecoderHidden[i], spec.Activation));
            width = spec.DecoderHidden[i];
        }
        decoder.Add(AddLayer("decoder.out", width, spec.InputDim, Activation.Identity));
        Encoder = encoder;
        Decoder = decoder;
    }

    public ParameterTensor this[string name] =>
        tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"The model has no parameter '{name}'.");

    DenseLayer AddLayer(string name, int inputs, int outputs, Activation activation)
    {
        int w = Add(name + ".weight", outputs, inputs);
        int b = Add(name + ".bias", outputs);
        return new DenseLayer(inputs, outputs, w, b, activation);
    }

    int Add(string name, params int[] shape)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        if (Count + length > int.MaxValue)
            throw new ArgumentException($"The model would have more than {int.MaxValue} parameters (at {name}); kernels index them with 32-bit integers. Use smaller layers.");
        var t = new ParameterTensor(name, shape, Count);
        tensors.Add(t);
        Count += (int)length;
        return t.Offset;
    }
}
