using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A value flowing through an exported graph: its name, and for an NCHW feature map its shape (null for a
/// [N, features] matrix). Layers insert the Flatten or Reshape between the two forms where they need it.
/// </summary>
internal readonly record struct OnnxValue(string Name, ImageShape? Map);

/// <summary>
/// What the layers' ONNX nodes share (<see cref="Layer.Onnx"/>): the graphs are NCHW like PyTorch's and the weights go
/// in in PyTorch's layouts, so the flatten before a dense layer and the reshape after one are ONNX's own and need
/// no permutation.
/// </summary>
internal static class OnnxNodes
{
    public static readonly OnnxAttribute TransB = new("transB", Int: 1);

    /// <summary>The input as [N, features]: an NCHW map flattened (C, H, W order, as the data's and PyTorch's).</summary>
    public static string Rows(OnnxGraph graph, OnnxValue input) =>
        input.Map is null ? input.Name : graph.Node("Flatten", [input.Name], "flat", new OnnxAttribute("axis", Int: 1));

    /// <summary>The input as an NCHW map of <paramref name="shape"/>: a dense layer's [N, C·H·W] output reshaped (C, H, W order, as PyTorch's view).</summary>
    public static string AsMap(OnnxGraph graph, OnnxValue input, ImageShape shape) => input.Map is not null
        ? input.Name
        : graph.Node("Reshape", [input.Name, graph.Int64s("map_shape", -1, shape.Channels, shape.Height, shape.Width)], "map");

    /// <summary>kernel_shape, strides and pads of a square convolution.</summary>
    public static OnnxAttribute[] Window(ConvLayerSpec spec) =>
    [
        OnnxAttribute.List("kernel_shape", spec.Kernel, spec.Kernel),
        OnnxAttribute.List("strides", spec.Stride, spec.Stride),
        OnnxAttribute.List("pads", spec.Padding, spec.Padding, spec.Padding, spec.Padding),
    ];

    public static string Activate(OnnxGraph graph, string x, Activation activation) => activation switch
    {
        Activation.Identity => x,
        Activation.Relu => graph.Node("Relu", [x], "relu"),
        Activation.LeakyRelu => graph.Node("LeakyRelu", [x], "leaky_relu", new OnnxAttribute("alpha", Float: Activations.LeakySlope)),
        Activation.Tanh => graph.Node("Tanh", [x], "tanh"),
        Activation.Softplus => graph.Node("Softplus", [x], "softplus"),
        _ => throw new InternalFaultException($"No ONNX operator for activation {activation}."),
    };
}
