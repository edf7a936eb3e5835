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
internal sealed class GpuKernels : KernelSet
{
    readonly Action<KernelConfig, GemmProblem, GemmProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> pair;
    readonly Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>> im2col;
    readonly Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>> col2im;
    readonly Action<KernelConfig, ConvGeometry, ArrayView<float>, ArrayView<float>> channelSums;
    readonly Action<KernelConfig, ImageSumsProblem, ArrayView<float>, ArrayView<float>> imageSums;
    readonly Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> maskedConvForward;
    readonly Action<KernelConfig, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> maskedConvWeightGradient;
    readonly Action<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> maskedConvInputGradient;
    readonly Action<KernelConfig, LikelihoodProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>> likelihood;
    readonly Action<KernelConfig, MmdProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>> mmd;
    readonly Action<KernelConfig, LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>> lossTerms;
    readonly Action<KernelConfig, FreeBitsProblem, ArrayView<double>, ArrayView<double>, ArrayView<float>> freeBits;
    readonly Action<KernelConfig, int, ArrayView<double>, ArrayView<double>, ArrayView<double>> logMeanExp;
    readonly Action<KernelConfig, int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>> mutualInformation;
    readonly Action<KernelConfig, DimensionProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>> dimensionStatistics;

    internal GpuKernels(ComputeDevice device, GpuLaunchShape? shape = null) : base(device)
    {
        Shape = (shape ?? GpuLaunchShape.For(device.Accelerator)).Checked();
        var a = Accelerator;
        if (a.MaxSharedMemoryPerGroup < SharedScratch.MmdDoubles * sizeof(double))
            throw new DeviceUnavailableException(
                $"Device '{device.Spec}' ({a.Name}) offers {a.MaxSharedMemoryPerGroup} bytes of shared memory per group; the MMD kernel needs {SharedScratch.MmdDoubles * sizeof(double)} (OpenCL 2.0 promises 32 KB). Use another device, or RunConfig.Device = cpu.");
        pair = Load(a.LoadStreamKernel<GemmProblem, GemmProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Products.PairGpu));
        im2col = Load(a.LoadAutoGroupedStreamKernel<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>>(Convolutions.Im2ColGpu));
        col2im = Load(a.LoadAutoGroupedStreamKernel<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Convolutions.Col2ImGpu));
        channelSums = Load(a.LoadStreamKernel<ConvGeometry, ArrayView<float>, ArrayView<float>>(Convolutions.ChannelSumsGpu));
        imageSums = Load(a.LoadStreamKernel<ImageSumsProblem, ArrayView<float>, ArrayView<float>>(Kernels.ImageSums.SumsGpu));
        maskedConvForward = Load(a.LoadAutoGroupedStreamKernel<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MaskedConvolutions.ForwardGpu));
        maskedConvWeightGradient = Load(a.LoadStreamKernel<MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MaskedConvolutions.WeightGradientGpu));
        maskedConvInputGradient = Load(a.LoadAutoGroupedStreamKernel<Index1D, MaskedConvProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MaskedConvolutions.InputGradientGpu));
        likelihood = Load(a.LoadStreamKernel<LikelihoodProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>(Likelihoods.RowsGpu));
        mmd = Load(a.LoadStreamKernel<MmdProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(MmdTiles.RunGpu));
        lossTerms = Load(a.LoadStreamKernel<LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>>(Reductions.LossTermsGpu));
        freeBits = Load(a.LoadStreamKernel<FreeBitsProblem, ArrayView<double>, ArrayView<double>, ArrayView<float>>(Kernels.FreeBits.DimensionsGpu));
        logMeanExp = Load(a.LoadStreamKernel<int, ArrayView<double>, ArrayView<double>, ArrayView<double>>(Estimators.LogMeanExpGpu));
        mutualInformation = Load(a.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>(Estimators.MutualInformationGpu));
        dimensionStatistics = Load(a.LoadStreamKernel<DimensionProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(Estimators.DimensionStatisticsGpu));
    }

    /// <summary>The launch sizes this set uses.</summary>
    public GpuLaunchShape Shape { get; }

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
        pair(Groups(tiles, side * side), first, second, side, a1, b1, c1, aux1, rowSums1, a2, b2, c2, aux2);
    }

    private protected override void LaunchIm2Col(ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        g.Items = Partition(g.ColRows * g.ColWidth);
        im2col(g.Items.Threads, g, image, col);
    }

    private protected override void LaunchCol2Im(ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        g.Items = Partition(g.ImageSize);
        col2im(g.Items.Threads, g, col, aux, image);
    }

    private protected override void LaunchChannelSums(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums) =>
        channelSums(Groups(g.Channels, Shape.ReductionGroup), g, values, sums);

    /// <summary>sums[b, n] = Σ_p values[b·pixels + p, n] of a channels-last map [images·pixels, width] (<see cref="Kernels.ImageSums"/>).</summary>
    void LaunchImageSums(ImageSumsProblem p, ArrayView<float> values, ArrayView<float> sums) =>
        imageSums(Groups(Kernels.ImageSums.Groups(p, Shape.ReductionGroup), Shape.ReductionGroup), p, values, sums);

    private protected override void LaunchMaskedConvForward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context,
        ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        p.Items = Partition(p.OutputSize);
        maskedConvForward(p.Items.Threads, p, x, weight, context, contextWeight, bias, y);
    }

    /// <summary>Three launches: the weight gradient a group per row, the per-image sums (<see cref="Kernels.ImageSums.SumsGpu"/>), the input gradient.</summary>
    private protected override void LaunchMaskedConvBackward(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX)
    {
        int group = Shape.ReductionGroup;
        maskedConvWeightGradient(Groups(MaskedConvolutions.WeightGradientGroups(p, group), group), p, x, dPre, mask, dWeight);
        Launched("MaskedConvWeightGradient");
        // Channels last, an image is Pixels rows of Co; channels first, each (image, channel) is Pixels rows of one.
        var rows = p.OutChannelStride == 1
            ? new ImageSumsProblem { Images = p.Batch, Pixels = p.Pixels, Width = p.OutChannels }
            : new ImageSumsProblem { Images = p.Batch * p.OutChannels, Pixels = p.Pixels, Width = 1 };
        LaunchImageSums(rows, dPre, sums);
        Launched(nameof(Kernels.ImageSums));
        if (p.InputGradient == 0) return;
        p.Items = Partition(p.InputSize);
        maskedConvInputGradient(p.Items.Threads, p, dPre, weight, x, dX);
        Launched("MaskedConvInputGradient");
    }

    private protected override void LaunchLikelihood(LikelihoodProblem p, ArrayView<float> output, ArrayView<float> x,
        ArrayView<double> nllRows, ArrayView<float> dOutput) =>
        likelihood(Groups(p.Rows, Shape.ReductionGroup), p, output, x, nllRows, dOutput);

    private protected override void LaunchMmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads,
        ArrayView<float> eps, ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        int block = Shape.MmdBlockFor(p.Latent);
        mmd(Groups(MmdTiles.Groups(p, block), Shape.MmdGroup),
            p, block, z, prior, heads, eps, rowTerms, dz, dHeads);
    }

    private protected override Action<Index1D, GatherProblem, ArrayView<float>, ArrayView<int>, ArrayView<float>> GatherKernel => Batches.GatherGpu;

    private protected override Action<Index1D, Partition, ulong, ArrayView<float>> FillNormalKernel => CounterRng.FillNormalGpu;

    private protected override Action<Index1D, ReparameterizeProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>> ReparameterizeKernel => Kernels.Reparameterize.ForwardGpu;

    private protected override Action<Index1D, ImportanceProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>> ImportanceSamplesKernel => Estimators.ImportanceSamplesGpu;

    private protected override Action<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>> AdamKernel => Optimizers.AdamGpu;

    private protected override void LaunchLossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans,
        ArrayView<double> mmdRows, ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals) =>
        lossTerms(Groups(1, Shape.ReductionGroup), w, nllRows, klTerms, klMeans, mmdRows, faults, terms, totals);

    private protected override void LaunchFreeBits(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales) =>
        freeBits(Groups(p.Latent, Shape.ReductionGroup), p, klTerms, means, scales);

    private protected override void LaunchLogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo) =>
        logMeanExp(Groups(images, Shape.ReductionGroup), samples, logWeights, iwae, elbo);

    private protected override void LaunchMutualInformation(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms) =>
        mutualInformation(Groups(count, Shape.ReductionGroup), count, latent, heads, z, terms);

    private protected override void LaunchDimensionStatistics(DimensionProblem p, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean) =>
        dimensionStatistics(Groups(p.Latent, Shape.ReductionGroup), p, sums, squares, kl, muVariance, klMean);
}
