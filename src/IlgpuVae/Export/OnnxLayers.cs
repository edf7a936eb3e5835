using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Export;

/// <summary>
/// A value flowing through an exported graph: its name, and for an NCHW feature map its shape (null for a
/// [N, features] matrix). Builders insert the Flatten or Reshape between the two forms where a layer needs it.
/// </summary>
readonly record struct OnnxValue(string Name, ImageShape? Map);

/// <summary>
/// Writes the nodes of one layer whose input is <paramref name="input"/>; returns the layer's output. A masked
/// layer also reads <paramref name="context"/> ([N, C]: z for a MADE decoder, the encoder's context for a flow
/// step); other layers are given null.
/// </summary>
delegate OnnxValue OnnxLayerBuilder(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context);

/// <summary>
/// One node builder per layer type: a dense layer is Gemm (transB), Conv2d is Conv and ConvTranspose2d is
/// ConvTranspose with its output padding, a masked (MADE) layer two Gemms — the context's product with the bias,
/// then the input's product added to it, as <see cref="Compute.KernelSet.MaskedForward"/> sums them — each
/// followed by its activation. The graphs are NCHW like PyTorch's, and the weights go in in PyTorch's layouts,
/// so the flatten before the first dense layer and the reshape after the last are ONNX's own and need no
/// permutation. A new kind of layer adds its builder to <see cref="Builders"/>; a layer without one is refused
/// by name. Beside the layers, the element-wise kernels of an IAF posterior: <see cref="Reparameterize"/> and
/// <see cref="FlowStep"/>, node for node as the kernels compute them.
/// </summary>
static class OnnxLayers
{
    static readonly Dictionary<Type, OnnxLayerBuilder> Builders = new()
    {
        [typeof(DenseLayer)] = Dense,
        [typeof(Conv2dLayer)] = Conv,
        [typeof(ConvTranspose2dLayer)] = ConvTranspose,
        [typeof(MaskedLayer)] = Masked,
    };

    /// <summary>
    /// The layer's nodes (a masked layer's reading <paramref name="context"/> too); an architecture the exporter
    /// cannot write yet is refused, naming the layer.
    /// </summary>
    public static OnnxValue Emit(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context = null) =>
        Builders.TryGetValue(layer.GetType(), out var build)
            ? build(graph, layer, parameters, input, context)
            : throw new ArgumentException($"ONNX export does not support {layer.GetType().Name} layers yet; export a model without them.");

    static OnnxValue Dense(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context)
    {
        var (w, b) = parameters.WeightAndBias(graph, layer, [layer.Outputs, layer.Inputs], layer.Outputs);
        string y = graph.Node("Gemm", [Rows(graph, input), w, b], "gemm", TransB);
        return new OnnxValue(Activate(graph, y, layer.Activation), null);
    }

    /// <summary>
    /// y = act(x·(W ⊙ M)ᵀ + (c·Vᵀ + b)): Gemm(c, V, b), then Gemm(x, W, that) — the masked weight baked with its
    /// absent entries zero — and the activation.
    /// </summary>
    static OnnxValue Masked(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context)
    {
        var masked = (MaskedLayer)layer;
        if (context is null) throw new InternalFaultException($"A masked layer of {layer.Outputs} outputs was exported without its context.");
        var (w, v, b) = parameters.MaskedWeights(graph, masked);
        string conditioned = graph.Node("Gemm", [context, v, b], "cond", TransB);
        string y = graph.Node("Gemm", [Rows(graph, input), w, conditioned], "masked", TransB);
        return new OnnxValue(Activate(graph, y, layer.Activation), null);
    }

    static readonly OnnxAttribute TransB = new("transB", Int: 1);

    /// <summary>The input as [N, features]: an NCHW map flattened (C, H, W order, as the data's and PyTorch's).</summary>
    static string Rows(OnnxGraph graph, OnnxValue input) =>
        input.Map is null ? input.Name : graph.Node("Flatten", [input.Name], "flat", new OnnxAttribute("axis", Int: 1));

    static OnnxValue Conv(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context)
    {
        var (from, to, spec) = ((Conv2dLayer)layer).Shapes;
        var (w, b) = parameters.WeightAndBias(graph, layer, [to.Channels, from.Channels, spec.Kernel, spec.Kernel], to.Channels);
        string y = graph.Node("Conv", [AsMap(graph, input, from), w, b], "conv", Window(spec));
        return new OnnxValue(Activate(graph, y, layer.Activation), to);
    }

    static OnnxValue ConvTranspose(OnnxGraph graph, Layer layer, OnnxParameters parameters, OnnxValue input, string? context)
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
    public static string AsMap(OnnxGraph graph, OnnxValue input, ImageShape shape) => input.Map is not null
        ? input.Name
        : graph.Node("Reshape", [input.Name, graph.Int64s("map_shape", -1, shape.Channels, shape.Height, shape.Width)], "map");

    /// <summary>
    /// z₀ = μ + exp(½·log σ²) ⊙ ε, as <see cref="Kernels.Reparameterize.Forward"/>; and, for log q(z|x), its
    /// elements −½(ε² + log σ²) (the Gaussian's density less its ½·log 2π per element, added later).
    /// </summary>
    public static (string Z, string LogQ) Reparameterize(OnnxGraph graph, string mu, string logVar, string eps)
    {
        string sigma = graph.Node("Exp", [graph.Node("Mul", [graph.Scalar("half", 0.5f), logVar], "half_logvar")], "sigma");
        string z = graph.Node("Add", [mu, graph.Node("Mul", [sigma, eps], "sigma_eps")], "z0");
        string squares = graph.Node("Mul", [eps, eps], "eps_squared");
        string logQ = graph.Node("Mul", [graph.Node("Add", [squares, logVar], "eps_squared_logvar"), graph.Scalar("minus_half", -0.5f)], "log_q0");
        return (z, logQ);
    }

    /// <summary>
    /// A flow step after its MADE made <paramref name="ms"/> = [m | s] [N, 2k], as <see cref="Flows.StepForward"/>:
    /// σ = sigmoid(s), z_{t+1} = σ ⊙ z_t + (1 − σ) ⊙ m; and the step's −log σ = softplus(−s) added into the
    /// elements of log q.
    /// </summary>
    public static (string Z, string LogQ) FlowStep(OnnxGraph graph, int latent, string z, string ms, string logQ)
    {
        var split = graph.Node("Split", [ms, graph.Int64s("ms_split", latent, latent)], ["m", "s"], new OnnxAttribute("axis", Int: 1));
        string m = split[0], s = split[1];
        string sigma = graph.Node("Sigmoid", [s], "gate");
        string rest = graph.Node("Sub", [graph.Scalar("one", 1f), sigma], "one_minus_gate");
        string next = graph.Node("Add", [graph.Node("Mul", [sigma, z], "gate_z"), graph.Node("Mul", [rest, m], "rest_m")], "z_step");
        string logDet = graph.Node("Softplus", [graph.Node("Neg", [s], "minus_s")], "minus_log_gate");
        return (next, graph.Node("Add", [logQ, logDet], "log_q_step"));
    }

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
