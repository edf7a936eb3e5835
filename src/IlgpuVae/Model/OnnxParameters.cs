using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A model's parameters in PyTorch's layouts (what a checkpoint holds), addressed by where each layer's weight
/// and bias sit in the flat buffer. A layer's weight may span several named tensors — the heads' μ and log σ²
/// weights run as one layer, as do a flow step's m and s — and comes out as their concatenation, which is that
/// layer's [outputs, …] order. A masked weight comes out as W ⊙ M: its absent entries exactly +0 (the model holds
/// them there; this makes the exported graph autoregressive whatever the buffer holds).
/// </summary>
sealed class OnnxParameters
{
    readonly SortedDictionary<int, (ParameterTensor Tensor, float[] Data)> byOffset = [];

    public OnnxParameters(VaeModel model)
    {
        foreach (var t in ModelTensors.Read(model))
        {
            // The mask is in the layout the model keeps; the data in PyTorch's.
            if (t.Tensor.Mask is { } mask)
                for (int i = 0; i < mask.Length; i++)
                    if (mask[i] == 0f) t.Data[t.Tensor.FileIndex?.Invoke(i) ?? i] = 0f;
            byOffset[t.Tensor.Offset] = t;
        }
    }

    /// <summary>A masked layer's weight W ⊙ M [out, in], its context's weight V [out, C] and its bias [out], as graph initializers.</summary>
    public (string Weight, string ContextWeight, string Bias) MaskedWeights(OnnxGraph graph, MaskedLayer layer)
    {
        var (weight, bias) = WeightAndBias(graph, layer, [layer.Outputs, layer.Inputs], layer.Outputs);
        var (name, context) = Range(layer.ContextWeightOffset, layer.Outputs * layer.ContextWidth);
        return (weight, graph.Floats(name + ".weight", [layer.Outputs, layer.ContextWidth], context), bias);
    }

    /// <summary>A masked conv's weight W ⊙ M [out, in, K, K], its context's weight V [out, Z] and its bias [out], as graph initializers.</summary>
    public (string Weight, string ContextWeight, string Bias) MaskedConvWeights(OnnxGraph graph, MaskedConv2dLayer layer)
    {
        int o = layer.OutChannels, k = layer.Kernel;
        var (weight, bias) = WeightAndBias(graph, layer, [o, layer.Input.Channels, k, k], o);
        var (name, context) = Range(layer.ContextWeightOffset, o * layer.ContextWidth);
        return (weight, graph.Floats(name + ".weight", [o, layer.ContextWidth], context), bias);
    }

    /// <summary>The layer's weight (shaped <paramref name="weightShape"/>) and bias as graph initializers.</summary>
    public (string Weight, string Bias) WeightAndBias(OnnxGraph graph, Layer layer, long[] weightShape, int biasLength)
    {
        var (name, weight) = Range(layer.WeightOffset, layer.WeightLength);
        var (_, bias) = Range(layer.BiasOffset, biasLength);
        return (graph.Floats(name + ".weight", weightShape, weight), graph.Floats(name + ".bias", [biasLength], bias));
    }

    /// <summary>The tensors that tile [offset, offset + length) exactly, in PyTorch layout, and the first one's layer name.</summary>
    (string Name, float[] Data) Range(int offset, int length)
    {
        var data = new float[length];
        string? name = null;
        for (int done = 0; done < length;)
        {
            if (!byOffset.TryGetValue(offset + done, out var t) || done + t.Data.Length > length)
                throw new InternalFaultException($"No parameter tensors tile the flat range [{offset}, {offset + length}) at {offset + done}.");
            name ??= t.Tensor.Name[..t.Tensor.Name.LastIndexOf('.')];
            t.Data.CopyTo(data, done);
            done += t.Data.Length;
        }
        return (name ?? "empty", data);
    }
}
