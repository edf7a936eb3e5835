using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// Layers applied in turn, each one's output the next one's input, with the device buffers of a batch of up to
/// the model's batch: each layer's output and output gradient [batch, outputs], and what it keeps from its forward
/// to its backward (<see cref="Layer.KeptFloats"/>). Built with its layers, allocated by <see cref="Allocate"/>.
/// </summary>
internal sealed class LayerStack(IReadOnlyList<Layer> layers) : IDisposable
{
    MemoryBuffer1D<float, Stride1D.Dense>[] outputs = [], gradients = [], kept = [];
    ArrayView<float>[] outputViews = [];

    public IReadOnlyList<Layer> Layers => layers;

    public int Count => layers.Count;

    public void Allocate(DeviceMemory memory, int maxBatch)
    {
        outputs = layers.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        gradients = layers.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        kept = layers.Select(l => memory.Floats(l.KeptFloats(maxBatch))).ToArray();
        outputViews = outputs.Select(o => (ArrayView<float>)o.View).ToArray();
    }

    /// <summary>The last layer's output.</summary>
    public ArrayView<float> Output => outputs[^1].View;

    /// <summary>∂L/∂(the last layer's pre-activation output), which the layer after the stack (or the loss) writes.</summary>
    public ArrayView<float> OutputGradient => gradients[^1].View;

    public ArrayView<float> OutputOf(int layer) => outputs[layer].View;

    public ArrayView<float> GradientOf(int layer) => gradients[layer].View;

    /// <summary>The stack on <paramref name="input"/> into its own outputs.</summary>
    public void Forward(LayerBuffers b, int batch, ArrayView<float> input) => Forward(b, batch, input, outputViews, keeps: true);

    /// <summary>
    /// The stack on <paramref name="input"/> into <paramref name="into"/> (one buffer per layer, large enough for
    /// <paramref name="batch"/> rows), keeping nothing: a pass of more rows than the model's batch, with no backward.
    /// </summary>
    public void Forward(LayerBuffers b, int batch, ArrayView<float> input, IReadOnlyList<ArrayView<float>> into, bool keeps = false)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Forward(b with { Kept = keeps ? kept[i].View : default }, batch, input, into[i]);
            input = into[i];
        }
    }

    /// <summary>
    /// Each layer's output gradient (the last already in <see cref="OutputGradient"/>) gives, in its own launches (one
    /// for a dense layer), its
    /// parameters' gradients and, through the previous activation, the previous layer's output gradient — or
    /// <paramref name="inputGradient"/> for the first layer (none where null) — added to what is there for layer
    /// <paramref name="accumulateInputOf"/>. Layers that read the context (<see cref="Layer.ReadsContext"/>) also write the context's gradient, the first one
    /// (<paramref name="contextWritten"/> false) overwriting it, the rest adding; returns whether it has been written.
    /// </summary>
    public bool Backward(LayerBuffers b, int batch, ArrayView<float> input, ArrayView<float>? inputGradient,
        bool contextWritten = false, int accumulateInputOf = -1)
    {
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            var inputs = i > 0 ? (ArrayView<float>)outputs[i - 1].View : input;
            var previous = i > 0 ? layers[i - 1].Activation : Activation.Identity;
            var target = i > 0 ? gradients[i - 1].View : inputGradient;
            var buffers = b with { Kept = kept[i].View, AccumulateInputGradient = i == accumulateInputOf, AccumulateContextGradient = contextWritten };
            layers[i].Backward(buffers, batch, inputs, gradients[i].View, previous, target);
            contextWritten |= layers[i].ReadsContext;
        }
        return contextWritten;
    }

    public void Dispose()
    {
        foreach (var buffer in outputs.Concat(gradients).Concat(kept)) buffer.Dispose();
    }
}
