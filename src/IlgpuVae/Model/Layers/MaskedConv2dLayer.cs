using ILGPU;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A masked conditional Conv2d of a PixelCNN decoder (<see cref="PixelCnn"/>): square odd kernel K, stride 1, "same"
/// padding r = (K − 1)/2, y = act((W ⊙ M) ∗ x + V·z + b) with V [out, Z] and b [out] one term per image, z from
/// <see cref="LayerBuffers.Context"/> and ∂L/∂z into <see cref="LayerBuffers.ContextGradient"/> (written, or added
/// with <see cref="LayerBuffers.AccumulateContextGradient"/>); M from <see cref="LayerBuffers.Masks"/>. The input is
/// NCHW (the data, for the first layer) or NHWC, the output NHWC, or NCHW for the last layer (the likelihood's layout).
///
/// The weight is kept as [K, K, Ci, Co] (<see cref="PixelCnn.FileIndex"/> maps it to PyTorch's [Co, Ci, K, K]). Every
/// tap after the centre is masked, so the kernels read only the first (K² + 1)/2 taps — 13 of 25 for a 5×5 kernel, 25
/// of 49 for 7×7 — straight from the input, with no column matrix (<see cref="MaskedConvolutions"/>): the forward
/// (with the context term) is one launch, the backward one more on the CPU accelerator (the weight gradient, each
/// image's dPre summed for the context term's gradient, the input gradient with the previous activation's
/// derivative) and three on GPUs (two for the first layer, whose input needs no gradient), then <see cref="Compute.KernelSet.ContextBackward"/> turns the sums into dV, dz and
/// db. The rest of the weight, a tail held at zero, gets a zero gradient; so do its masked entries. The backward never
/// adds into its input's gradient (a PixelCNN's layers form a chain).
/// </summary>
internal sealed class MaskedConv2dLayer : Layer
{
    readonly ImageShape input;
    readonly int outChannels, kernel, contextWidth, contextWeightOffset;
    readonly bool nhwcInput, nchwOutput;

    public MaskedConv2dLayer(ImageShape input, int outChannels, int kernel, int contextWidth, Activation activation,
        bool inputChannelsLast, bool outputChannelsLast, int weightOffset, int contextWeightOffset, int biasOffset)
        : base(input.Size, outChannels * input.Pixels, activation, weightOffset, kernel * kernel * input.Channels * outChannels, biasOffset)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentException($"A masked conv's kernel must be odd and positive; got {kernel}.");
        (this.input, this.outChannels, this.kernel, this.contextWidth, this.contextWeightOffset) = (input, outChannels, kernel, contextWidth, contextWeightOffset);
        // One channel is NCHW and NHWC at once.
        nhwcInput = inputChannelsLast || input.Channels == 1;
        nchwOutput = !outputChannelsLast && outChannels > 1;
    }

    public ImageShape Input => input;
    public int OutChannels => outChannels;
    public int Kernel => kernel;
    public int ContextWidth => contextWidth;
    public override bool ReadsContext => true;
    public int ContextWeightOffset => contextWeightOffset;

    /// <summary>Columns of its products as a dense layer's: the live taps times the input channels.</summary>
    int LiveRows => MaskedConvProblem.LiveTaps(kernel) * input.Channels;

    long Rows(int batch) => (long)batch * input.Pixels;

    public override (int Rows, int Inputs, int Outputs) Product(int batch) => ((int)Rows(batch), LiveRows, outChannels);

    /// <summary>[B, out]: the backward's per-image sums of dPre, the context term's gradient.</summary>
    public override long WorkspaceFloats(int batch) => (long)batch * outChannels;

    ArrayView<float> ContextWeight(ArrayView<float> flat) => flat.SubView(contextWeightOffset, outChannels * contextWidth);

    MaskedConvProblem Problem(int batch) => new()
    {
        Batch = batch, Height = input.Height, Width = input.Width, InChannels = input.Channels, OutChannels = outChannels,
        Kernel = kernel, Taps = MaskedConvProblem.LiveTaps(kernel), ContextWidth = contextWidth,
        InChannelStride = nhwcInput ? 1 : input.Pixels, InPixelStride = nhwcInput ? input.Channels : 1,
        OutChannelStride = nchwOutput ? input.Pixels : 1, OutPixelStride = nchwOutput ? 1 : outChannels,
        Activation = (int)Activation,
    };

    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y) =>
        b.Kernels.MaskedConvForward(Problem(batch), x, Weight(b.Parameters), b.Context, ContextWeight(b.Parameters), Bias(b.Parameters, outChannels), y);

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre)
    {
        if (b.AccumulateInputGradient) throw new InternalFaultException("A masked conv writes its input's gradient; it does not add to one.");
        var k = b.Kernels;
        var sums = b.Workspace.SubView(0, WorkspaceFloats(batch));
        k.MaskedConvBackward(Problem(batch) with { Activation = (int)inputActivation }, x, dPre, Weight(b.Parameters), Weight(b.Masks),
            Weight(b.Gradients), sums, dInputPre);
        k.ContextBackward(batch, contextWidth, outChannels, b.AccumulateContextGradient, sums, b.Context, ContextWeight(b.Parameters),
            ContextWeight(b.Gradients), Bias(b.Gradients, outChannels), b.ContextGradient);
    }

    /// <summary>
    /// Conv(x, W ⊙ M) on the NCHW map — the masked weight baked in, its absent taps zero — plus Gemm(z, V, b) reshaped
    /// to [N, out, 1, 1] (added at every pixel), then the activation.
    /// </summary>
    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue x, string? context)
    {
        if (context is null) throw new InternalFaultException($"A masked conv of {outChannels} channels was exported without its context.");
        var (w, v, b) = parameters.WeightsWithContext(graph, this, [OutChannels, Input.Channels, Kernel, Kernel], ContextWeightOffset, ContextWidth);
        string conv = graph.Node("Conv", [OnnxNodes.AsMap(graph, x, input), w], "masked_conv", OnnxNodes.Window(new ConvLayerSpec(outChannels, kernel, 1, kernel / 2)));
        string conditioned = graph.Node("Gemm", [context, v, b], "cond", OnnxNodes.TransB);
        string perImage = graph.Node("Reshape", [conditioned, graph.Int64s("cond_shape", -1, outChannels, 1, 1)], "cond_map");
        string y = graph.Node("Add", [conv, perImage], "conditioned");
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), input with { Channels = outChannels });
    }
}
