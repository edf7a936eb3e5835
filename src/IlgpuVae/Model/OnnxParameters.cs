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

    /// <summary>
    /// A layer with a context (a MADE layer, a PixelCNN's masked conv): its weight W ⊙ M shaped <paramref name="weightShape"/>
    /// (whose first dimension is the outputs), its context's weight V [outputs, <paramref name="contextWidth"/>] at
    /// <paramref name="contextOffset"/>, and its bias [outputs], as graph initializers.
    /// </summary>
    public (string Weight, string ContextWeight, string Bias) WeightsWithContext(OnnxGraph graph, Layer layer, long[] weightShape,
        int contextOffset, int contextWidth)
    {
        int outputs = (int)weightShape[0];
        var (weight, bias) = WeightAndBias(graph, layer, weightShape, outputs);
        var (name, context) = Range(contextOffset, outputs * contextWidth);
        return (weight, graph.Floats(name + ".weight", [outputs, contextWidth], context), bias);
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
