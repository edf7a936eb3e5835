using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// What a layer's launches use besides its input and output: the kernel set, the flat parameter and gradient
/// buffers, the scratch the layer keeps from its forward to its backward (a conv's column matrix), and the
/// workspace every layer may use within one forward or backward. Masked layers (<see cref="MaskedLayer"/>) also
/// read a context, write its gradient, and take their weights' masks from a buffer laid out as the parameters.
/// </summary>
internal readonly record struct LayerBuffers(KernelSet Kernels, ArrayView<float> Parameters, ArrayView<float> Gradients,
    ArrayView<float> Kept, ArrayView<float> Workspace)
{
    /// <summary>The backward adds its input gradient to what the buffer holds (another layer read the same input).</summary>
    public bool AccumulateInputGradient { get; init; }

    /// <summary>The context c [batch, C] every masked layer of a MADE reads (z for a decoder, the encoder's context for a flow).</summary>
    public ArrayView<float> Context { get; init; }

    /// <summary>∂L/∂c [batch, C], which masked layers' backward writes, or adds to with <see cref="AccumulateContextGradient"/>.</summary>
    public ArrayView<float> ContextGradient { get; init; }

    /// <summary>The backward adds its context gradient to what the buffer holds (every layer of a MADE reads c).</summary>
    public bool AccumulateContextGradient { get; init; }

    /// <summary>0/1 per parameter, at the parameters' offsets: which weights of a masked layer exist.</summary>
    public ArrayView<float> Masks { get; init; }
}

/// <summary>
/// One layer of the encoder's or decoder's stack, acting on [batch, <see cref="Inputs"/>] rows and producing
/// [batch, <see cref="Outputs"/>] with <see cref="Activation"/> applied. Its backward takes dPre = ∂L/∂(its
/// pre-activation output) and writes its parameters' gradients (overwriting) and, when asked, ∂L/∂(the previous
/// layer's pre-activation), the previous activation's derivative fused in.
/// </summary>
internal abstract class Layer(int inputs, int outputs, Activation activation, int weightOffset, int weightLength, int biasOffset)
{
    public int Inputs => inputs;
    public int Outputs => outputs;
    public Activation Activation => activation;
    public int WeightOffset => weightOffset;
    public int BiasOffset => biasOffset;
    /// <summary>Floats of its weight in the flat buffer (a layer's bias follows at <see cref="BiasOffset"/>).</summary>
    public int WeightLength => weightLength;

    /// <summary>Its main product for a batch of <paramref name="batch"/> as a dense layer's: rows × inputs → outputs.</summary>
    public virtual (int Rows, int Inputs, int Outputs) Product(int batch) => (batch, inputs, outputs);

    /// <summary>Whether it reads <see cref="LayerBuffers.Context"/>, so its backward writes (or adds to) the context's gradient.</summary>
    public virtual bool ReadsContext => false;

    /// <summary>Floats kept from the forward to the backward, for a batch of <paramref name="batch"/>.</summary>
    public virtual long KeptFloats(int batch) => 0;

    /// <summary>Floats of shared workspace a forward or backward uses, for a batch of <paramref name="batch"/>.</summary>
    public virtual long WorkspaceFloats(int batch) => 0;

    public abstract void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y);

    /// <summary><paramref name="x"/> is the forward's input, made by <paramref name="inputActivation"/> (Identity for a model input).</summary>
    public abstract void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre);

    /// <summary>
    /// The layer's ONNX nodes on <paramref name="input"/> (a masked layer's reading <paramref name="context"/> too:
    /// [N, C], z for a MADE decoder, the encoder's context for a flow step); returns its output. A layer that has none
    /// is refused by name.
    /// </summary>
    public virtual OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue input, string? context) =>
        throw new ArgumentException($"ONNX export does not support {GetType().Name} layers yet; export a model without them.");

    protected ArrayView<float> Weight(ArrayView<float> flat) => flat.SubView(weightOffset, weightLength);
    protected ArrayView<float> Bias(ArrayView<float> flat, int length) => flat.SubView(biasOffset, length);
}

/// <summary>y = act(x·Wᵀ + b), W [out, in]: <see cref="KernelSet.DenseForward"/> and <see cref="KernelSet.DenseBackward"/>; ONNX Gemm (transB).</summary>
internal sealed class DenseLayer(int inputs, int outputs, Activation activation, int weightOffset, int biasOffset)
    : Layer(inputs, outputs, activation, weightOffset, inputs * outputs, biasOffset)
{
    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y) =>
        b.Kernels.DenseForward(batch, Inputs, Outputs, Activation, x, Weight(b.Parameters), Bias(b.Parameters, Outputs), y);

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre) =>
        b.Kernels.DenseBackward(batch, Inputs, Outputs, inputActivation, b.AccumulateInputGradient, dPre, x, Weight(b.Parameters),
            Weight(b.Gradients), Bias(b.Gradients, Outputs), dInputPre);

    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue input, string? context)
    {
        var (w, b) = parameters.WeightAndBias(graph, this, [Outputs, Inputs], Outputs);
        string y = graph.Node("Gemm", [OnnxNodes.Rows(graph, input), w, b], "gemm", OnnxNodes.TransB);
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), null);
    }
}
