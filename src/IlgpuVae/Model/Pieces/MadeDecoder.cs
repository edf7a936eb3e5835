using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// An autoregressive decoder, p(x|z) = Π_i p(x_i | x_&lt;i, z): a MADE (<see cref="Made"/>) over the image's values in
/// raster order (NCHW) with z feeding every layer as its context — decoder.made.{l}.weight (masked), .cond.weight
/// (z's), .bias, then decoder.out.* back to one output per value, no activation. Training and the likelihood are one
/// pass; images are drawn value by value on the device, one decoder pass per value. It can model x without z.
/// </summary>
internal sealed class MadeDecoder : IDecoder
{
    readonly ModelSpec spec;
    readonly LayerStack stack;

    public MadeDecoder(ModelSpec spec, ParameterLayout layout)
    {
        this.spec = spec;
        int d = spec.InputDim, width = d;
        var masks = Made.Masks(Made.InputDegrees(d, reversed: false), spec.DecoderHidden);
        var layers = new List<Layer>();
        for (int l = 0; l < spec.DecoderHidden.Count; l++)
        {
            layers.Add(layout.Masked($"decoder.made.{l}", width, spec.DecoderHidden[l], spec.LatentDim, spec.Activation, masks[l]));
            width = spec.DecoderHidden[l];
        }
        layers.Add(layout.Masked("decoder.out", width, d, spec.LatentDim, Activation.Identity, masks[^1]));
        stack = new LayerStack(layers);
    }

    public IReadOnlyList<Layer> Layers => stack.Layers;

    public bool ReadsInput => true;

    public void Allocate(DeviceMemory memory, int maxBatch) => stack.Allocate(memory, maxBatch);

    public ArrayView<float> Output => stack.Output;

    public ArrayView<float> OutputGradient => stack.OutputGradient;

    public void Forward(VaeModel model, int batch) => stack.Forward(model.Buffers with { Context = model.Z }, batch, model.Input);

    /// <summary>x needs no gradient; ∂L/∂z is every layer's context gradient, summed.</summary>
    public void Backward(VaeModel model, int batch) =>
        stack.Backward(model.Buffers with { Context = model.Z, ContextGradient = model.Dz }, batch, model.Input, null);

    /// <summary>
    /// Values drawn pixel by pixel in raster order into <see cref="VaeModel.Input"/> (each pass of the decoder sees the
    /// ones drawn so far): Bernoulli draws keyed by <paramref name="key"/> and the pixel, or the Gaussian's means (clamped to [0, 1]).
    /// </summary>
    public void DrawImages(VaeModel model, int batch, ulong key, Span<float> images)
    {
        int d = spec.InputDim;
        model.Input.SubView(0, (long)batch * d).MemSetToZero();
        for (int pixel = 0; pixel < d; pixel++)
        {
            model.Decode(batch);
            model.Kernels.SamplePixel(batch, d, pixel, spec.Likelihood, CounterRng.Key(key, RandomStreams.Pictures, (ulong)pixel), Output, model.Input);
        }
        model.Input.SubView(0, images.Length).CopyToCPU(images);
        if (spec.Likelihood == Likelihood.Gaussian)
            for (int i = 0; i < images.Length; i++) images[i] = Math.Clamp(images[i], 0f, 1f);
    }

    public (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x)
    {
        var value = x ?? throw new InternalFaultException("A MADE decoder's graph was built without its input x.");
        foreach (var layer in stack.Layers) value = layer.Onnx(graph, parameters, value, z);
        return (value, $"z, x → {DenseDecoder.OnnxMeaning(spec.Likelihood)} of every pixel's conditional p(x_i | x_<i, z), pixel i reading only x's pixels before it");
    }

    public void Dispose() => stack.Dispose();
}
