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
/// tap of the kernel's rows below the centre is masked, so the column matrix holds only rows 0 … r of each window — a
/// KH = r + 1 geometry of the ordinary im2col — and the products read only the weight's first (r + 1)·K·Ci rows:
/// 15 of 25 taps for a 5×5 kernel, 28 of 49 for 7×7. The rest of the weight, a tail held at zero, gets a zero
/// gradient; so do its masked entries (<see cref="Epilogue.Masked"/>). The context term c·Vᵀ + b [B, out] is added
/// per image in the product's epilogue (<see cref="Epilogue.ImageBiasActivation"/>); its gradient is dPre summed over
/// each image's pixels (<see cref="Compute.KernelSet.ImageSums"/>). A 1×1 layer on an NHWC map reads it directly,
/// with no column matrix. The backward never adds into its input's gradient (a PixelCNN's layers form a chain).
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
        // One channel is NCHW and NHWC at once: no transposition either way.
        nhwcInput = inputChannelsLast || input.Channels == 1;
        nchwOutput = !outputChannelsLast && outChannels > 1;
    }

    public ImageShape Input => input;
    public int OutChannels => outChannels;
    public int Kernel => kernel;
    public int ContextWidth => contextWidth;
    public override bool ReadsContext => true;
    public int ContextWeightOffset => contextWeightOffset;

    /// <summary>Whether it reads a column matrix, or (a 1×1 kernel on an NHWC map) its input as it is.</summary>
    bool UsesColumns => kernel > 1 || !nhwcInput;

    /// <summary>Columns of the products: the live kernel rows' taps times the input channels (the weight's live rows).</summary>
    int LiveTaps => PixelCnn.LiveRows(kernel) * kernel * input.Channels;

    long Rows(int batch) => (long)batch * input.Pixels;

    public override (int Rows, int Inputs, int Outputs) Product(int batch) => ((int)Rows(batch), LiveTaps, outChannels);

    /// <summary>The column matrix, for the weight's gradient.</summary>
    public override long KeptFloats(int batch) => UsesColumns ? Rows(batch) * LiveTaps : 0;

    /// <summary>
    /// [B, out] for the context term or its per-image gradient, then the NHWC output or its gradient of a last layer
    /// (NCHW outside), then the column matrix's gradient.
    /// </summary>
    public override long WorkspaceFloats(int batch) => (long)batch * outChannels + TransposedFloats(batch) + KeptFloats(batch);

    long TransposedFloats(int batch) => nchwOutput ? Rows(batch) * outChannels : 0;

    ArrayView<float> ContextWeight(ArrayView<float> flat) => flat.SubView(contextWeightOffset, outChannels * contextWidth);

    /// <summary>The workspace's parts: [B, out], the NHWC copy of an NCHW output, the column matrix's gradient.</summary>
    (ArrayView<float> PerImage, ArrayView<float> Nhwc, ArrayView<float> DColumns) Parts(ArrayView<float> workspace, int batch)
    {
        long perImage = (long)batch * outChannels, nhwc = TransposedFloats(batch);
        return (workspace.SubView(0, perImage), nchwOutput ? workspace.SubView(perImage, nhwc) : default,
            UsesColumns ? workspace.SubView(perImage + nhwc, KeptFloats(batch)) : default);
    }

    /// <summary>The taps land on the input; the kernel sits at each pixel of the same-sized output; only rows 0 … r.</summary>
    ConvGeometry Geometry(int batch) => new()
    {
        Batch = batch, Channels = input.Channels, ImageHeight = input.Height, ImageWidth = input.Width,
        GridHeight = input.Height, GridWidth = input.Width, KernelHeight = PixelCnn.LiveRows(kernel), KernelWidth = kernel,
        Stride = 1, Padding = kernel / 2,
        ChannelStride = nhwcInput ? 1 : input.Pixels, PixelStride = nhwcInput ? input.Channels : 1,
    };

    /// <summary>A 1×1 gather between the NCHW output and its NHWC rows: Im2Col makes the rows, Col2Im the image.</summary>
    ConvGeometry Transposition(int batch) => new()
    {
        Batch = batch, Channels = outChannels, ImageHeight = input.Height, ImageWidth = input.Width,
        GridHeight = input.Height, GridWidth = input.Width, KernelHeight = 1, KernelWidth = 1, Stride = 1,
        ChannelStride = input.Pixels, PixelStride = 1, Activation = (int)Activation.Identity,
    };

    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y)
    {
        var k = b.Kernels;
        var (perImage, nhwc, _) = Parts(b.Workspace, batch);
        k.ContextBias(batch, contextWidth, outChannels, b.Context, ContextWeight(b.Parameters), Bias(b.Parameters, outChannels), perImage);
        var a = x;
        if (UsesColumns)
        {
            a = b.Kept.SubView(0, KeptFloats(batch));
            k.Im2Col(Geometry(batch), x, a);
        }
        // y[(b, p), o] = act(Σ_t a[(b, p), t]·W[t, o] + perImage[b, o])
        var product = new GemmProblem
        {
            M = (int)Rows(batch), N = outChannels, K = LiveTaps, ARow = LiveTaps, ACol = 1, BRow = outChannels, BCol = 1,
            Activation = (int)Activation, Epilogue = (int)Epilogue.ImageBiasActivation, RowsPerImage = input.Pixels,
        };
        k.ProductPair(product, a, Weight(b.Parameters), nchwOutput ? nhwc : y, perImage, default, null, default, default, default, default);
        if (nchwOutput) k.Col2Im(Transposition(batch), nhwc, default, y);
    }

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre)
    {
        if (b.AccumulateInputGradient) throw new InternalFaultException("A masked conv writes its input's gradient; it does not add to one.");
        var k = b.Kernels;
        var (perImage, nhwc, dColumns) = Parts(b.Workspace, batch);
        int rows = (int)Rows(batch);
        var g = dPre;
        if (nchwOutput)
        {
            k.Im2Col(Transposition(batch), dPre, nhwc);
            g = nhwc;
        }
        k.ImageSums(batch, input.Pixels, outChannels, g, perImage);
        // dW[t, o] = (Σ_rows a[row, t]·g[row, o]) ⊙ M[t, o] over the live rows; the input's side: dA[row, t] = Σ_o g[row, o]·W[t, o],
        // which for a layer without columns is its input's gradient itself, times act'(x).
        var a = UsesColumns ? b.Kept.SubView(0, KeptFloats(batch)) : x;
        var weight = new GemmProblem
        {
            M = LiveTaps, N = outChannels, K = rows, ARow = 1, ACol = LiveTaps, BRow = outChannels, BCol = 1, Epilogue = (int)Epilogue.Masked,
        };
        GemmProblem? inputGradient = dInputPre is null ? null : new GemmProblem
        {
            M = rows, N = LiveTaps, K = outChannels, ARow = outChannels, ACol = 1, BRow = 1, BCol = outChannels,
            Activation = (int)(UsesColumns ? Activation.Identity : inputActivation), Epilogue = (int)Epilogue.TimesDerivative,
        };
        var dA = UsesColumns ? dColumns : dInputPre ?? default;
        var dWeight = Weight(b.Gradients);
        k.ProductPair(weight, a, g, dWeight, Weight(b.Masks), default, inputGradient, g, Weight(b.Parameters), dA, x);
        // The rows below the centre: masked, never read, their gradient +0 — by the mask kernel, as a memset of a view
        // that starts inside a buffer is refused by OpenCL runtimes (PoCL).
        int live = LiveTaps * outChannels, tail = WeightLength - live;
        if (tail > 0) k.ApplyMask(tail, Weight(b.Masks).SubView(live), dWeight.SubView(live));
        k.ContextBackward(batch, contextWidth, outChannels, b.AccumulateContextGradient, perImage, b.Context, ContextWeight(b.Parameters),
            ContextWeight(b.Gradients), Bias(b.Gradients, outChannels), b.ContextGradient);
        if (dInputPre is { } target && UsesColumns)
            k.Col2Im(Geometry(batch) with { Activation = (int)inputActivation }, dColumns, x, target);
    }

    /// <summary>
    /// Conv(x, W ⊙ M) on the NCHW map — the masked weight baked in, its absent taps zero — plus Gemm(z, V, b) reshaped
    /// to [N, out, 1, 1] (added at every pixel), then the activation.
    /// </summary>
    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue x, string? context)
    {
        if (context is null) throw new InternalFaultException($"A masked conv of {outChannels} channels was exported without its context.");
        var (w, v, b) = parameters.MaskedConvWeights(graph, this);
        string conv = graph.Node("Conv", [OnnxNodes.AsMap(graph, x, input), w], "masked_conv", OnnxNodes.Window(new ConvLayerSpec(outChannels, kernel, 1, kernel / 2)));
        string conditioned = graph.Node("Gemm", [context, v, b], "cond", OnnxNodes.TransB);
        string perImage = graph.Node("Reshape", [conditioned, graph.Int64s("cond_shape", -1, outChannels, 1, 1)], "cond_map");
        string y = graph.Node("Add", [conv, perImage], "conditioned");
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), input with { Channels = outChannels });
    }
}
