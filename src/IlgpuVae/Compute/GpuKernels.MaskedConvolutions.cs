using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>The masked convolutions of a PixelCNN decoder on the GPU kernel set.</summary>
internal sealed partial class GpuKernels
{
    private protected override void LaunchMaskedConvForward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context,
        ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        p.Items = Partition(p.OutputSize);
        maskedConvForward.Launch(p.Items.Threads, p, x, weight, context, contextWeight, bias, y);
    }

    readonly Kernel<Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> maskedConvForward =
        new(load, MaskedConvolutions.ForwardGpu);

    /// <summary>Three launches: the weight gradient a group per row, the per-image sums (<see cref="Kernels.ImageSums.SumsGpu"/>), the input gradient.</summary>
    private protected override void LaunchMaskedConvBackward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX)
    {
        int group = Shape.ReductionGroup;
        maskedConvWeightGradient.Launch(Groups(MaskedConvolutions.WeightGradientGroups(p, group), group), p, x, dPre, mask, dWeight);
        // Channels last, an image is Pixels rows of Co; channels first, each (image, channel) is Pixels rows of one.
        var rows = p.OutChannelStride == 1
            ? new ImageSumsProblem { Images = p.Batch, Pixels = p.Pixels, Width = p.OutChannels }
            : new ImageSumsProblem { Images = p.Batch * p.OutChannels, Pixels = p.Pixels, Width = 1 };
        LaunchImageSums(rows, dPre, sums);
        if (p.InputGradient == 0) return;
        p.Items = Partition(p.InputSize);
        maskedConvInputGradient.Launch(p.Items.Threads, p, dPre, weight, x, dX);
    }

    readonly Kernel<Action<KernelConfig, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> maskedConvWeightGradient =
        new(load, MaskedConvolutions.WeightGradientGpu);

    readonly Kernel<Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> maskedConvInputGradient =
        new(load, MaskedConvolutions.InputGradientGpu);

    /// <summary>sums[b, n] = Σ_p values[b·pixels + p, n] of a channels-last map [images·pixels, width] (<see cref="Kernels.ImageSums"/>).</summary>
    void LaunchImageSums(ImageSumsProblem p, ArrayView<float> values, ArrayView<float> sums) =>
        imageSums.Launch(Groups(Kernels.ImageSums.Groups(p, Shape.ReductionGroup), Shape.ReductionGroup), p, values, sums);

    readonly Kernel<Action<KernelConfig, ImageSumsProblem, ArrayView<float>, ArrayView<float>>> imageSums = new(load, Kernels.ImageSums.SumsGpu);
}
