using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// p(x|z): the decoder's output for each row — Bernoulli logits or Gaussian means, [batch, d], NCHW for images — from
/// the codes in <see cref="VaeModel.Z"/> (and, for an autoregressive decoder, the images in <see cref="VaeModel.Input"/>),
/// its backward to ∂L/∂z, images drawn from it, and its ONNX graph.
/// </summary>
internal interface IDecoder : IDisposable
{
    IReadOnlyList<Layer> Layers { get; }

    /// <summary>Whether its output also reads x (an autoregressive decoder conditions each value on the ones before it).</summary>
    bool ReadsInput { get; }

    void Allocate(DeviceMemory memory, int maxBatch);

    /// <summary>The output [MaxBatch, d] after <see cref="Forward"/>.</summary>
    ArrayView<float> Output { get; }

    /// <summary>∂L/∂output, which the likelihood writes.</summary>
    ArrayView<float> OutputGradient { get; }

    void Forward(VaeModel model, int batch);

    /// <summary>From <see cref="OutputGradient"/> to every parameter and to ∂L/∂z in <see cref="VaeModel.Dz"/> (written, not added).</summary>
    void Backward(VaeModel model, int batch);

    /// <summary>
    /// Images in [0, 1], [batch, d], for the codes in <see cref="VaeModel.Z"/>: the output's pixel means, or for an
    /// autoregressive decoder values drawn one after another (keyed by <paramref name="key"/>).
    /// </summary>
    void DrawImages(VaeModel model, int batch, ulong key, Span<float> images);

    /// <summary>
    /// The nodes from the graph's input z (and x, which <paramref name="x"/> holds where <see cref="ReadsInput"/>) to the
    /// output; returns it and one line on what the graph computes.
    /// </summary>
    (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x);
}
