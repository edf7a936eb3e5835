using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// The kernels a GPU runs (CUDA, OpenCL, or any accelerator with <c>--kernels portable</c>): products as
/// shared-memory block tiles (<see cref="TiledGemm"/>), the MMD as pairwise tiles (<see cref="MmdTiles"/>),
/// reductions a group per row, image, code or dimension with a fixed-order tree, grid-stride kernels one item
/// per thread in turn so neighbouring threads touch neighbouring elements. Sizes: <see cref="Shape"/>.
/// </summary>
internal sealed partial class GpuKernels(ComputeDevice device, GpuLaunchShape shape, KernelLoader load) : KernelSet(device, load)
{
    internal GpuKernels(ComputeDevice device, GpuLaunchShape? shape = null)
        : this(device, (shape ?? GpuLaunchShape.For(device.Accelerator)).Checked(), new KernelLoader(WithSharedMemory(device), gpu: true)) { }

    /// <summary>The accelerator, which must offer the MMD kernel's shared memory.</summary>
    static Accelerator WithSharedMemory(ComputeDevice device)
    {
        var a = device.Accelerator;
        if (a.MaxSharedMemoryPerGroup < SharedScratch.MmdDoubles * sizeof(double))
            throw new DeviceUnavailableException(
                $"Device '{device.Spec}' ({a.Name}) offers {a.MaxSharedMemoryPerGroup} bytes of shared memory per group; the MMD kernel needs {SharedScratch.MmdDoubles * sizeof(double)} (OpenCL 2.0 promises 32 KB). Use another device, or RunConfig.Device = cpu.");
        return a;
    }

    /// <summary>The launch sizes this set uses.</summary>
    public GpuLaunchShape Shape { get; } = shape;

    /// <summary>Items dealt one at a time to up to four threads per resident thread of the device.</summary>
    public override Partition Partition(int length) =>
        new() { Length = length, Threads = (int)Math.Max(1, Math.Min(length, 4L * Accelerator.MaxNumThreads)), Chunk = 1 };

    /// <summary>A launch of <paramref name="groups"/> groups of <paramref name="threads"/> (their shared memory is static: <see cref="SharedScratch"/>).</summary>
    static KernelConfig Groups(int groups, int threads) => new(groups, threads);

    private protected override void LaunchPair(GemmProblem first, GemmProblem second, ArrayView<float> a1, ArrayView<float> b1,
        ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1, ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        int side = Shape.SideFor(s => TiledGemm.Tiles(first, s) + TiledGemm.Tiles(second, s));
        int tiles = TiledGemm.Tiles(first, side) + TiledGemm.Tiles(second, side);
        pair.Launch(Groups(tiles, side * side), first, second, side, a1, b1, c1, aux1, rowSums1, a2, b2, c2, aux2);
    }

    readonly Kernel<Action<KernelConfig, GemmProblem, GemmProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> pair =
        new(load, Products.PairGpu);

    private protected override void LaunchIm2Col(ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        g.Items = Partition(g.ColRows * g.ColWidth);
        im2col.Launch(g.Items.Threads, g, image, col);
    }

    readonly Kernel<Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>>> im2col = new(load, Convolutions.Im2ColGpu);

    private protected override void LaunchCol2Im(ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        g.Items = Partition(g.ImageSize);
        col2im.Launch(g.Items.Threads, g, col, aux, image);
    }

    readonly Kernel<Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>>> col2im = new(load, Convolutions.Col2ImGpu);

    private protected override void LaunchChannelSums(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums) =>
        channelSums.Launch(Groups(g.Channels, Shape.ReductionGroup), g, values, sums);

    readonly Kernel<Action<KernelConfig, ConvGeometry, ArrayView<float>, ArrayView<float>>> channelSums = new(load, Convolutions.ChannelSumsGpu);

    private protected override void LaunchLikelihood(LikelihoodProblem p, ArrayView<float> output, ArrayView<float> x,
        ArrayView<double> nllRows, ArrayView<float> dOutput) =>
        likelihood.Launch(Groups(p.Rows, Shape.ReductionGroup), p, output, x, nllRows, dOutput);

    readonly Kernel<Action<KernelConfig, LikelihoodProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>> likelihood =
        new(load, Likelihoods.RowsGpu);

    private protected override void LaunchMmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads,
        ArrayView<float> eps, ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        int block = Shape.MmdBlockFor(p.Latent);
        mmd.Launch(Groups(MmdTiles.Groups(p, block), Shape.MmdGroup),
            p, block, z, prior, heads, eps, rowTerms, dz, dHeads);
    }

    readonly Kernel<Action<KernelConfig, MmdProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>>> mmd =
        new(load, MmdTiles.RunGpu);

    private protected override void LaunchLossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans,
        ArrayView<double> mmdRows, ArrayView<double> tcRows, ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals) =>
        lossTerms.Launch(Groups(1, Shape.ReductionGroup), w, nllRows, klTerms, klMeans, mmdRows, tcRows, faults, terms, totals);

    readonly Kernel<Action<KernelConfig, LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>>> lossTerms =
        new(load, Reductions.LossTermsGpu);

    private protected override void LaunchFreeBits(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales) =>
        freeBits.Launch(Groups(p.Latent, Shape.ReductionGroup), p, klTerms, means, scales);

    readonly Kernel<Action<KernelConfig, FreeBitsProblem, ArrayView<double>, ArrayView<double>, ArrayView<float>>> freeBits =
        new(load, Kernels.FreeBits.DimensionsGpu);

    private protected override void LaunchLogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo,
        ArrayView<double> variance) =>
        logMeanExp.Launch(Groups(images, Shape.ReductionGroup), samples, logWeights, iwae, elbo, variance);

    readonly Kernel<Action<KernelConfig, int, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>> logMeanExp = new(load, Estimators.LogMeanExpGpu);

    private protected override void LaunchMutualInformation(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms) =>
        mutualInformation.Launch(Groups(count, Shape.ReductionGroup), count, latent, heads, z, terms);

    readonly Kernel<Action<KernelConfig, int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>> mutualInformation =
        new(load, Estimators.MutualInformationGpu);

    private protected override void LaunchDimensionStatistics(DimensionProblem p, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean) =>
        dimensionStatistics.Launch(Groups(p.Latent, Shape.ReductionGroup), p, sums, squares, kl, muVariance, klMean);

    readonly Kernel<Action<KernelConfig, DimensionProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>>> dimensionStatistics =
        new(load, Estimators.DimensionStatisticsGpu);
}
