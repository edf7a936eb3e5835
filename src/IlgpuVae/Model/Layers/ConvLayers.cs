using ILGPU;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// Conv2d (PyTorch's, no dilation or groups) as a column matrix and a dense product: the output is NHWC
/// [batch, H·W·Co] inside the model. The weight is kept as [Co, KH, KW, Ci] — the column matrix's order, so the
/// product reads it as a dense layer's [Co, KH·KW·Ci] — and saved in PyTorch's [Co, Ci, KH, KW]
/// (<see cref="ParameterLayout"/> maps one to the other). The column matrix is kept for the weight gradient.
/// </summary>
internal sealed class Conv2dLayer(ImageShape input, ImageShape output, ConvLayerSpec spec, Activation activation,
    bool inputChannelsLast, int weightOffset, int biasOffset)
    : Layer(input.Size, output.Size, activation, weightOffset, output.Channels * spec.Kernel * spec.Kernel * input.Channels, biasOffset)
{
    /// <summary>The image it reads, the image it writes, and its kernel, stride and padding.</summary>
    public (ImageShape Input, ImageShape Output, ConvLayerSpec Spec) Shapes => (input, output, spec);

    int Taps => spec.Kernel * spec.Kernel * input.Channels;

    /// <summary>The taps land on the input; the kernel sits at each output position.</summary>
    ConvGeometry Geometry(int batch) => ConvGeometries.Of(batch, input, output, spec, inputChannelsLast);

    public override (int Rows, int Inputs, int Outputs) Product(int batch) => (batch * output.Pixels, Taps, output.Channels);

    public override long KeptFloats(int batch) => (long)batch * output.Pixels * Taps;

    public override long WorkspaceFloats(int batch) => KeptFloats(batch);

    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y)
    {
        var col = b.Kept.SubView(0, KeptFloats(batch));
        b.Kernels.Im2Col(Geometry(batch), x, col);
        b.Kernels.DenseForward(batch * output.Pixels, Taps, output.Channels, Activation, col, Weight(b.Parameters),
            Bias(b.Parameters, output.Channels), y);
    }

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre)
    {
        var col = b.Kept.SubView(0, KeptFloats(batch));
        var dCol = b.Workspace.SubView(0, KeptFloats(batch));
        b.Kernels.DenseBackward(batch * output.Pixels, Taps, output.Channels, Activation.Identity, false, dPre, col, Weight(b.Parameters),
            Weight(b.Gradients), Bias(b.Gradients, output.Channels), dInputPre is null ? null : dCol);
        if (dInputPre is { } target)
            b.Kernels.Col2Im(Geometry(batch) with { Activation = (int)inputActivation }, dCol, x, target);
    }

    /// <summary>ONNX Conv on the NCHW map, then the activation.</summary>
    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue x, string? context)
    {
        var (w, b) = parameters.WeightAndBias(graph, this, [output.Channels, input.Channels, spec.Kernel, spec.Kernel], output.Channels);
        string y = graph.Node("Conv", [OnnxNodes.AsMap(graph, x, input), w, b], "conv", OnnxNodes.Window(spec));
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), output);
    }
}

/// <summary>
/// ConvTranspose2d (PyTorch's: output padding widens the output; no dilation or groups) as a product and a
/// column gather: cols = x·W, then each output element sums the taps that reach it, adds the bias and applies
/// the activation. Input NHWC; output NHWC inside the model, NCHW (the data's layout) for the decoder's last
/// layer. The weight is kept as [Ci, KH, KW, Co] and saved in PyTorch's [Ci, Co, KH, KW].
/// </summary>
internal sealed class ConvTranspose2dLayer(ImageShape input, ImageShape output, ConvLayerSpec spec, Activation activation,
    bool outputChannelsLast, int weightOffset, int biasOffset)
    : Layer(input.Size, output.Size, activation, weightOffset, input.Channels * spec.Kernel * spec.Kernel * output.Channels, biasOffset)
{
    /// <summary>The image it reads, the image it writes, and its kernel, stride and padding.</summary>
    public (ImageShape Input, ImageShape Output, ConvLayerSpec Spec) Shapes => (input, output, spec);

    int Taps => spec.Kernel * spec.Kernel * output.Channels;

    /// <summary>The taps land on the output; the kernel sits at each input position.</summary>
    ConvGeometry Geometry(int batch) => ConvGeometries.Of(batch, output, input, spec, outputChannelsLast);

    public override (int Rows, int Inputs, int Outputs) Product(int batch) => (batch * input.Pixels, input.Channels, Taps);

    public override long WorkspaceFloats(int batch) => (long)batch * input.Pixels * Taps;

    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y)
    {
        int rows = batch * input.Pixels;
        var cols = b.Workspace.SubView(0, WorkspaceFloats(batch));
        // cols[(b, pixel), (ky, kx, co)] = Σ_ci x[(b, pixel), ci] · W[ci, (ky, kx, co)]
        var product = new GemmProblem { M = rows, N = Taps, K = input.Channels, ARow = input.Channels, ACol = 1, BRow = Taps, BCol = 1 };
        b.Kernels.ProductPair(product, x, Weight(b.Parameters), cols, default, default, null, default, default, default, default);
        b.Kernels.Col2Im(Geometry(batch) with { AddBias = 1, Activation = (int)Activation }, cols, Bias(b.Parameters, output.Channels), y);
    }

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre)
    {
        int rows = batch * input.Pixels;
        var dCols = b.Workspace.SubView(0, WorkspaceFloats(batch));
        var g = Geometry(batch);
        b.Kernels.Im2Col(g, dPre, dCols);
        // dW[ci, n] = Σ_rows x[row, ci] · dCols[row, n];  dX[row, ci] = (Σ_n dCols[row, n] · W[ci, n]) ⊙ act'(x)
        var weight = new GemmProblem { M = input.Channels, N = Taps, K = rows, ARow = 1, ACol = input.Channels, BRow = Taps, BCol = 1 };
        var inputGradient = new GemmProblem
        {
            M = rows, N = input.Channels, K = Taps, ARow = Taps, ACol = 1, BRow = 1, BCol = Taps,
            Activation = (int)inputActivation, Epilogue = (int)Epilogue.TimesDerivative,
        };
        b.Kernels.ProductPair(weight, x, dCols, Weight(b.Gradients), default, default,
            dInputPre is null ? null : inputGradient, dCols, Weight(b.Parameters), dInputPre ?? default, x);
        b.Kernels.ChannelSums(g, dPre, Bias(b.Gradients, output.Channels));
    }

    /// <summary>ONNX ConvTranspose with the output padding that restores the encoder's input size, then the activation.</summary>
    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue x, string? context)
    {
        var (w, b) = parameters.WeightAndBias(graph, this, [input.Channels, output.Channels, spec.Kernel, spec.Kernel], output.Channels);
        // What the stride leaves over, so the output has exactly the shape the encoder's convolution started from.
        long padH = output.Height - ((input.Height - 1L) * spec.Stride - 2 * spec.Padding + spec.Kernel);
        long padW = output.Width - ((input.Width - 1L) * spec.Stride - 2 * spec.Padding + spec.Kernel);
        string y = graph.Node("ConvTranspose", [OnnxNodes.AsMap(graph, x, input), w, b], "deconv",
            [.. OnnxNodes.Window(spec), OnnxAttribute.List("output_padding", padH, padW)]);
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), output);
    }
}

/// <summary>The kernels' <see cref="ConvGeometry"/> of a layer: the image side (where the taps land), the grid side.</summary>
static class ConvGeometries
{
    public static ConvGeometry Of(int batch, ImageShape image, ImageShape grid, ConvLayerSpec spec, bool imageChannelsLast) => new()
    {
        Batch = batch, Channels = image.Channels, ImageHeight = image.Height, ImageWidth = image.Width,
        GridHeight = grid.Height, GridWidth = grid.Width, KernelHeight = spec.Kernel, KernelWidth = spec.Kernel,
        Stride = spec.Stride, Padding = spec.Padding,
        ChannelStride = imageChannelsLast ? 1 : image.Pixels, PixelStride = imageChannelsLast ? image.Channels : 1,
    };
}
