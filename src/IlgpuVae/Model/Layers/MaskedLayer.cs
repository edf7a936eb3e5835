using ILGPU;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A layer of a MADE (<see cref="Made"/>) with a context: y = act((W ⊙ M)·x + V·c + b), W [out, in] with its
/// masked entries held at zero (<see cref="ParameterTensor.Mask"/>: initialized to zero, their gradient masked
/// to zero, so no optimizer moves them), V [out, C] unmasked, b [out]. The context c [batch, C] and its gradient
/// come in <see cref="LayerBuffers"/>: z for a MADE decoder, the encoder's context vector for a flow step.
/// In ONNX: Gemm(c, V, b), then Gemm(x, W, that) — the masked weight baked with its absent entries zero — as
/// <see cref="Compute.KernelSet.MaskedForward"/> sums them, then the activation.
/// </summary>
internal sealed class MaskedLayer(int inputs, int outputs, int contextWidth, Activation activation,
    int weightOffset, int contextWeightOffset, int biasOffset)
    : Layer(inputs, outputs, activation, weightOffset, inputs * outputs, biasOffset)
{
    public int ContextWidth => contextWidth;

    public override bool ReadsContext => true;

    public int ContextWeightOffset => contextWeightOffset;

    /// <summary>The context's product with the bias, which the main product's epilogue adds.</summary>
    public override long WorkspaceFloats(int batch) => (long)batch * Outputs;

    ArrayView<float> ContextWeight(ArrayView<float> flat) => flat.SubView(contextWeightOffset, Outputs * contextWidth);

    public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y) =>
        b.Kernels.MaskedForward(batch, Inputs, Outputs, contextWidth, Activation, x, Weight(b.Parameters), b.Context,
            ContextWeight(b.Parameters), Bias(b.Parameters, Outputs), b.Workspace.SubView(0, WorkspaceFloats(batch)), y);

    public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre,
        Activation inputActivation, ArrayView<float>? dInputPre) =>
        b.Kernels.MaskedBackward(batch, Inputs, Outputs, contextWidth, inputActivation, b.AccumulateInputGradient, b.AccumulateContextGradient,
            dPre, x, Weight(b.Parameters), Weight(b.Masks), b.Context, ContextWeight(b.Parameters),
            Weight(b.Gradients), Bias(b.Gradients, Outputs), dInputPre, ContextWeight(b.Gradients), b.ContextGradient);

    public override OnnxValue Onnx(OnnxGraph graph, OnnxParameters parameters, OnnxValue input, string? context)
    {
        if (context is null) throw new InternalFaultException($"A masked layer of {Outputs} outputs was exported without its context.");
        var (w, v, b) = parameters.WeightsWithContext(graph, this, [Outputs, Inputs], ContextWeightOffset, ContextWidth);
        string conditioned = graph.Node("Gemm", [context, v, b], "cond", OnnxNodes.TransB);
        string y = graph.Node("Gemm", [OnnxNodes.Rows(graph, input), w, conditioned], "masked", OnnxNodes.TransB);
        return new OnnxValue(OnnxNodes.Activate(graph, y, Activation), null);
    }
}
