using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Export;

/// <summary>
/// A value flowing through an exported graph: its name, and for an NCHW feature map its shape (null for a
/// [N, features] matrix). Builders insert the Flatten or Reshape between the two forms where a layer needs it.
/// </summary>
readonly record struct OnnxValue(string Name, ImageShape? Map);

/// <summary>Writes the nodes of one layer whose input is <paramref name="input"/>; returns the layer's output.</summary>
delegate OnnxValue OnnxLayerBuilder(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input);

/// <summary>
/// One node builder per layer type: a dense layer is Gemm (transB), Conv2d is Conv and ConvTranspose2d is
/// ConvTranspose with its output padding, each followed by its activation. The graphs are NCHW like PyTorch's,
/// and the weights go in in PyTorch's layouts, so the flatten before the first dense layer and the reshape
/// after the last are ONNX's own and need no permutation. A new kind of layer (a masked, autoregressive one)
/// adds its builder to <see cref="Builders"/>; a layer without one is refused by name.
/// </summary>
static class OnnxLayers
{
    static readonly Dictionary<Type, OnnxLayerBuilder> Builders = new()
    {
        [typeof(DenseLayer)] = Dense,
        [typeof(Conv2dLayer)] = Conv,
        [typeof(ConvTranspose2dLayer)] = ConvTranspose,
    };

    /// <summary>The layer's nodes; an architecture the exporter cannot write yet is refused, naming the layer.</summary>
    public static OnnxValue Emit(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input) =>
        Builders.TryGetValue(layer.GetType(), out var build)
            ? build(graph, layer, parameters, input)
            : throw new ArgumentException($"ONNX export does not support {layer.GetType().Name} layers yet; export a model without them.");

    static OnnxValue Dense(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input)
    {
        string x = input.Map is null ? input.Name : graph.Node("Flatten", [input.Name], "flat", new OnnxAttribute("axis", Int: 1));
        var (w, b) = parameters.WeightAndBias(graph, layer, [layer.Outputs, layer.Inputs], layer.Outputs);
        string y = graph.Node("Gemm", [x, w, b], "gemm", new OnnxAttribute("transB", Int: 1));
        return new OnnxValue(Activate(graph, y, layer.Activation), null);
    }

    static OnnxValue Conv(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input)
    {
        var (from, to, spec) = ((Conv2dLayer)layer).Shapes;
        var (w, b) = parameters.WeightAndBias(graph, layer, [to.Channels, from.Channels, spec.Kernel, spec.Kernel], to.Channels);
        string y = graph.Node("Conv", [AsMap(graph, input, from), w, b], "conv", Window(spec));
        return new OnnxValue(Activate(graph, y, layer.Activation), to);
    }

    static OnnxValue ConvTranspose(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input)
    {
        var (from, to, spec) = ((ConvTranspose2dLayer)layer).Shapes;
        var (w, b) = parameters.WeightAndBias(graph, layer, [from.Channels, to.Channels, spec.Kernel, spec.Kernel], to.Channels);
        // What the stride leaves over, so the output has exactly the shape the encoder's convolution started from.
        long padH = to.Height - ((from.Height - 1L) * spec.Stride - 2 * spec.Padding + spec.Kernel);
        long padW = to.Width - ((from.Width - 1L) * spec.Stride - 2 * spec.Padding + spec.Kernel);
        string y = graph.Node("ConvTranspose", [AsMap(graph, input, from), w, b], "deconv",
            [.. Window(spec), OnnxAttribute.List("output_padding", padH, padW)]);
        return new OnnxValue(Activate(graph, y, layer.Activation), to);
    }

    static OnnxAttribute[] Window(ConvLayerSpec spec) =>
    [
        OnnxAttribute.List("kernel_shape", spec.Kernel, spec.Kernel),
        OnnxAttribute.List("strides", spec.Stride, spec.Stride),
        OnnxAttribute.List("pads", spec.Padding, spec.Padding, spec.Padding, spec.Padding),
    ];

    /// <summary>The input as an NCHW map of <paramref name="shape"/>: a dense layer's [N, C·H·W] output reshaped (C, H, W order, as PyTorch's view).</summary>
    static string AsMap(OnnxGraph graph, OnnxValue input, ImageShape shape) => input.Map is not null
        ? input.Name
        : graph.Node("Reshape", [input.Name, graph.Int64s("map_shape", -1, shape.Channels, shape.Height, shape.Width)], "map");

    static string Activate(OnnxGraph graph, string x, Activation activation) => activation switch
    {
        Activation.Identity => x,
        Activation.Relu => graph.Node("Relu", [x], "relu"),
        Activation.LeakyRelu => graph.Node("LeakyRelu", [x], "leaky_relu", new OnnxAttribute("alpha", Float: Activations.LeakySlope)),
        Activation.Tanh => graph.Node("Tanh", [x], "tanh"),
        Activation.Softplus => graph.Node("Softplus", [x], "softplus"),
        _ => throw new InternalFaultException($"No ONNX operator for activation {activation}."),
    };
}
