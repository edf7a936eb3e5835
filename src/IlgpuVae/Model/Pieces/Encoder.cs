using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// The encoder: x → the heads [μ | log σ²] [B, 2k] of q(z|x)'s Gaussian — strided convolutions first for a conv
/// model, then the dense layers of <see cref="ModelSpec.EncoderHidden"/>, then the two heads as one layer of 2k
/// outputs (μ's rows first). A posterior that needs more of x (an IAF's context) reads what the heads read,
/// <see cref="HeadsInput"/>, and writes that input's gradient before <see cref="Backward"/> adds the heads' to it.
/// Parameters: encoder.conv.{i}.* [out, in, kh, kw], encoder.{i}.* [out, in], then encoder.mu.weight,
/// encoder.logvar.weight, encoder.mu.bias, encoder.logvar.bias — the two weights and the two biases adjacent, so the
/// heads run as one layer.
/// </summary>
internal sealed class Encoder : IDisposable
{
    readonly LayerStack stack;

    public Encoder(ModelSpec spec, ParameterLayout layout)
    {
        var act = spec.Activation;
        int k = spec.LatentDim, width = spec.InputDim;
        var layers = new List<Layer>();
        ImageShape? featureMap = null; // the NHWC map the first dense layer reads, if any
        if (spec.Conv is { } conv)
        {
            var shape = conv.Image;
            var shapes = conv.Shapes();
            for (int i = 0; i < conv.Layers.Count; i++)
            {
                var (w, b) = layout.Conv($"encoder.conv.{i}", conv.Layers[i], shape.Channels, shapes[i].Channels);
                // The data's images are NCHW; with one channel that is NHWC as well.
                layers.Add(new Conv2dLayer(shape, shapes[i], conv.Layers[i], act, i > 0 || shape.Channels == 1, w, b));
                shape = shapes[i];
            }
            featureMap = shape;
            width = shape.Size;
        }
        for (int i = 0; i < spec.EncoderHidden.Count; i++)
        {
            layers.Add(layout.Dense($"encoder.{i}", width, spec.EncoderHidden[i], act, readsMap: i == 0 ? featureMap : null));
            width = spec.EncoderHidden[i];
        }
        HeadsMap = spec.EncoderHidden.Count == 0 ? featureMap : null;
        int muWeight = layout.Add("encoder.mu.weight", [k, width], width, ParameterLayout.ColumnsFromMap(HeadsMap, k));
        layout.Add("encoder.logvar.weight", [k, width], width, ParameterLayout.ColumnsFromMap(HeadsMap, k));
        int muBias = layout.Add("encoder.mu.bias", [k], width);
        layout.Add("encoder.logvar.bias", [k], width);
        layers.Add(new DenseLayer(width, 2 * k, Activation.Identity, muWeight, muBias));
        HeadsInputWidth = width;
        stack = new LayerStack(layers);
    }

    public IReadOnlyList<Layer> Layers => stack.Layers;

    /// <summary>The NHWC feature map the heads read when no dense layer comes between them and the convolutions, else null.</summary>
    public ImageShape? HeadsMap { get; }

    /// <summary>Values per row of what the heads read.</summary>
    public int HeadsInputWidth { get; }

    public void Allocate(DeviceMemory memory, int maxBatch) => stack.Allocate(memory, maxBatch);

    /// <summary>[μ | log σ²] per row, [batch, 2k], after <see cref="Forward"/>.</summary>
    public ArrayView<float> Heads => stack.Output;

    /// <summary>∂L/∂heads, which the posterior's backward (or the MMD launch) writes.</summary>
    public ArrayView<float> HeadsGradient => stack.OutputGradient;

    /// <summary>What the heads read: the last hidden layer's output, or x itself.</summary>
    public ArrayView<float> HeadsInput(ArrayView<float> x) => stack.Count > 1 ? stack.OutputOf(stack.Count - 2) : x;

    /// <summary>The gradient of <see cref="HeadsInput"/>, or null where that is x (which needs none).</summary>
    public ArrayView<float>? HeadsInputGradient => stack.Count > 1 ? stack.GradientOf(stack.Count - 2) : null;

    public void Forward(LayerBuffers b, int batch, ArrayView<float> x) => stack.Forward(b, batch, x);

    /// <summary>From <see cref="HeadsGradient"/> back to every parameter; the heads' input gradient is added to what is there when <paramref name="headsInputWritten"/>.</summary>
    public void Backward(LayerBuffers b, int batch, ArrayView<float> x, bool headsInputWritten) =>
        stack.Backward(b, batch, x, null, accumulateInputOf: headsInputWritten ? stack.Count - 1 : -1);

    /// <summary>The nodes from x to the heads' [N, 2k] output; also returns what the heads read.</summary>
    public (OnnxValue Heads, OnnxValue HeadsInput) Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue x)
    {
        var value = x;
        foreach (var layer in stack.Layers.Take(stack.Count - 1)) value = layer.Onnx(graph, parameters, value, null);
        return (stack.Layers[^1].Onnx(graph, parameters, value, null), value);
    }

    public void Dispose() => stack.Dispose();
}
