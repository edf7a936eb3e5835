using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>The masked convolutions of a PixelCNN decoder on the CPU accelerator's kernel set.</summary>
internal sealed partial class CpuKernels
{
    private protected override void LaunchMaskedConvForward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context,
        ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        p.Threads = BandThreads(p.Batch);
        maskedConvForward.Launch(p.Threads, p, x, weight, context, contextWeight, bias, y);
    }

    readonly Kernel<Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> maskedConvForward =
        new(load, MaskedConvolutions.ForwardCpu);

    /// <summary>One launch: each thread its share of the weight gradient's rows, then its band of images' sums and input gradient.</summary>
    private protected override void LaunchMaskedConvBackward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX)
    {
        p.Threads = BandThreads(Math.Max(p.Batch, p.LiveRows));
        maskedConvBackward.Launch(p.Threads, p, x, dPre, weight, mask, dWeight, sums, dX);
    }

    readonly Kernel<Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> maskedConvBackward =
        new(load, MaskedConvolutions.BackwardCpu);
}
