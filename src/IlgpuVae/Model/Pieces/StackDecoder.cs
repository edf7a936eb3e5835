using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>What every decoder made of one stack of layers shares: its layers, their buffers, its output and gradient.</summary>
internal abstract class StackDecoder(ModelSpec spec, IReadOnlyList<Layer> layers) : IDecoder
{
    protected ModelSpec Spec => spec;

    protected LayerStack Stack { get; } = new(layers);

    public IReadOnlyList<Layer> Layers => Stack.Layers;

    public abstract bool ReadsInput { get; }

    public void Allocate(DeviceMemory memory, int maxBatch) => Stack.Allocate(memory, maxBatch);

    public ArrayView<float> Output => Stack.Output;

    public ArrayView<float> OutputGradient => Stack.OutputGradient;

    public abstract void Forward(VaeModel model, int batch);

    public abstract void Backward(VaeModel model, int batch);

    public abstract void DrawImages(VaeModel model, int batch, ulong key, Span<float> images);

    public abstract (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x);

    public void Dispose() => Stack.Dispose();
}
