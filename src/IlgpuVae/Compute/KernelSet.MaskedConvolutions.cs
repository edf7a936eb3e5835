using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

// A PixelCNN's masked conditional convs (MaskedConvolutions): the forward in one launch, the backward's weight gradient,
// per-image sums and input gradient per backend (one launch on the CPU accelerator, three on GPUs).
internal abstract partial class KernelSet
{
    /// <summary>y = act(the masked conv of x + V·z + b) (<see cref="MaskedConvolutions"/>), in the output layout <paramref name="p"/> names.</summary>
    public void MaskedConvForward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context,
        ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        RequireMaskedConv(p);
        Require(x, p.InputSize, nameof(x)); Require(weight, (long)p.WeightRows * p.OutChannels, nameof(weight));
        Require(context, (long)p.Batch * p.ContextWidth, nameof(context)); Require(contextWeight, (long)p.OutChannels * p.ContextWidth, nameof(contextWeight));
        Require(bias, p.OutChannels, nameof(bias)); Require(y, p.OutputSize, nameof(y));
        LaunchMaskedConvForward(p, x, weight, context, contextWeight, bias, y);
    }

    /// <summary>
    /// The masked conv's backward from dPre (in the output layout): dW through the mask (+0 past the live taps), the
    /// per-image sums of dPre [B, Co] that <see cref="ContextBackward"/> turns into the context's gradients, and, unless
    /// <paramref name="dX"/> is null, dX ⊙ act'(x) with p.Activation the input's activation.
    /// </summary>
    public void MaskedConvBackward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight, ArrayView<float> mask,
        ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float>? dX)
    {
        RequireMaskedConv(p);
        long weightLength = (long)p.WeightRows * p.OutChannels;
        Require(x, p.InputSize, nameof(x)); Require(dPre, p.OutputSize, nameof(dPre)); Require(weight, weightLength, nameof(weight));
        Require(mask, weightLength, nameof(mask)); Require(dWeight, weightLength, nameof(dWeight)); Require(sums, (long)p.Batch * p.OutChannels, nameof(sums));
        if (dX is { } target) Require(target, p.InputSize, nameof(dX));
        LaunchMaskedConvBackward(p with { InputGradient = dX is null ? 0 : 1 }, x, dPre, weight, mask, dWeight, sums, dX ?? default);
    }

    /// <summary>
    /// A problem the kernels can run: positive sizes, an odd kernel, the live taps the centre row's first (every tap of
    /// the rows above and at least the centre row's first, none below it), each side NCHW or NHWC.
    /// </summary>
    static void RequireMaskedConv(MaskedConvProblem p)
    {
        if (p.Batch <= 0 || p.Height <= 0 || p.Width <= 0 || p.InChannels <= 0 || p.OutChannels <= 0 || p.ContextWidth < 0)
            throw new InternalFaultException($"A masked conv of {p.Batch} images {p.Height}×{p.Width}, {p.InChannels} → {p.OutChannels} channels, context {p.ContextWidth}, is empty.");
        if (p.Kernel <= 0 || p.Kernel % 2 == 0 || p.Taps <= p.Radius * p.Kernel || p.Taps > (p.Radius + 1) * p.Kernel)
            throw new InternalFaultException($"A masked conv's kernel must be odd and its live taps reach into the centre row only; got {p.Kernel}, {p.Taps} taps.");
        static bool Layout(int channelStride, int pixelStride, int channels, int pixels) =>
            channelStride == 1 && pixelStride == channels || channelStride == pixels && pixelStride == 1;
        if (!Layout(p.InChannelStride, p.InPixelStride, p.InChannels, p.Pixels) || !Layout(p.OutChannelStride, p.OutPixelStride, p.OutChannels, p.Pixels))
            throw new InternalFaultException($"A masked conv's sides must be NCHW or NHWC; got strides {p.InChannelStride}/{p.InPixelStride} and {p.OutChannelStride}/{p.OutPixelStride}.");
    }

    private protected abstract void LaunchMaskedConvForward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context,
        ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y);

    /// <summary>Launches the backward (one launch or several); <paramref name="dX"/> is empty where p.InputGradient is 0.</summary>
    private protected abstract void LaunchMaskedConvBackward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX);
}
