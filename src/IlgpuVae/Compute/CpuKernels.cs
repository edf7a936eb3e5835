using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// The kernels of the CPU accelerator, whose simulated threads are OS threads (about a microsecond of dispatch
/// each, a barrier ~15 µs): the dense products in vector code (<see cref="SimdGemm"/>, a band of rows per
/// hardware thread), the reductions a thread per row, and grid-stride kernels one run of whole cache lines per
/// hardware thread — interleaved items had both cores writing into the same lines, which made the optimizer
/// step 1.7× slower. The kernels only this backend loads end in Cpu (<see cref="KernelSet"/>'s rule); many call
/// <c>[External]</c> vector code, which a GPU backend refuses to compile.
/// </summary>
internal sealed partial class CpuKernels(ComputeDevice device, KernelLoader load) : KernelSet(device, load)
{
    internal CpuKernels(ComputeDevice device) : this(device, new KernelLoader(device.Accelerator, gpu: false)) { }

    /// <summary>One run of whole cache lines (16 floats) per hardware thread, fewer threads for few items.</summary>
    public override Partition Partition(int length)
    {
        const int cacheLine = 16, fewestPerThread = 1024;
        int threads = Math.Clamp((length + fewestPerThread - 1) / fewestPerThread, 1, Accelerator.MaxNumThreads);
        int chunk = ((length + threads - 1) / threads + cacheLine - 1) / cacheLine * cacheLine;
        return new Partition { Length = length, Threads = threads, Chunk = Math.Max(chunk, cacheLine) };
    }

    public override Partition RowPartition(int rows, int workPerRow)
    {
        int threads = Math.Min(Partition((int)Math.Min(int.MaxValue, (long)rows * workPerRow)).Threads, Math.Max(rows, 1));
        return new Partition { Length = rows, Threads = threads, Chunk = Math.Max(1, (rows + threads - 1) / threads) };
    }

    /// <summary>The problem with its bands chosen: by rows, or by columns where that streams less of B.</summary>
    GemmProblem Banded(GemmProblem p)
    {
        p.ColumnBands = SimdGemm.SplitsColumns(p, Accelerator.MaxNumThreads) ? 1 : 0;
        p.Threads = SimdGemm.Threads(p, Accelerator.MaxNumThreads);
        return p;
    }

    private protected override void LaunchPair(GemmProblem first, GemmProblem second, ArrayView<float> a1, ArrayView<float> b1,
        ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1, ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        first = Banded(first);
        second = Banded(second);
        pair.Launch(first.Threads + second.Threads, first, second, a1, b1, c1, aux1, rowSums1, a2, b2, c2, aux2);
    }

    readonly Kernel<Action<Index1D, GemmProblem, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> pair =
        new(load, Products.PairCpu);

    /// <summary>Threads for a banded kernel over <paramref name="items"/> rows, pixels or channels: one per hardware thread, at most one per item.</summary>
    int BandThreads(int items) => Math.Min(items, Accelerator.MaxNumThreads);

    ConvGeometry WithBands(ConvGeometry g, int items)
    {
        g.Items = new Partition { Length = items, Threads = Math.Max(1, BandThreads(items)), Chunk = 1 };
        return g;
    }

    private protected override void LaunchIm2Col(ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        g = WithBands(g, g.ColRows);
        im2col.Launch(g.Items.Threads, g, image, col);
    }

    readonly Kernel<Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>>> im2col = new(load, Convolutions.Im2ColCpu);

    private protected override void LaunchCol2Im(ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        g = WithBands(g, g.Batch * g.ImagePixels);
        col2im.Launch(g.Items.Threads, g, col, aux, image);
    }

    readonly Kernel<Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>>> col2im = new(load, Convolutions.Col2ImCpu);

    private protected override void LaunchChannelSums(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums)
    {
        g = WithBands(g, g.Channels);
        channelSums.Launch(g.Items.Threads, g, values, sums);
    }

    readonly Kernel<Action<Index1D, ConvGeometry, ArrayView<float>, ArrayView<float>>> channelSums = new(load, Convolutions.ChannelSumsCpu);

    private protected override void LaunchLikelihood(LikelihoodProblem p, ArrayView<float> output, ArrayView<float> x,
        ArrayView<double> nllRows, ArrayView<float> dOutput)
    {
        p.Threads = BandThreads(p.Rows);
        likelihood.Launch(p.Threads, p, output, x, nllRows, dOutput);
    }

    readonly Kernel<Action<Index1D, LikelihoodProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>> likelihood =
        new(load, Likelihoods.RowsCpu);

    private protected override void LaunchMmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads,
        ArrayView<float> eps, ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        p.Threads = BandThreads(p.LaunchRows);
        mmd.Launch(p.Threads, p, z, prior, heads, eps, rowTerms, dz, dHeads);
    }

    readonly Kernel<Action<Index1D, MmdProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>>> mmd =
        new(load, Divergences.MmdCpu);

    private protected override void LaunchLossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans,
        ArrayView<double> mmdRows, ArrayView<double> tcRows, ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals) =>
        lossTerms.Launch(1, w, nllRows, klTerms, klMeans, mmdRows, tcRows, faults, terms, totals);

    readonly Kernel<Action<Index1D, LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>>> lossTerms =
        new(load, Reductions.LossTermsCpu);

    private protected override void LaunchFreeBits(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales)
    {
        p.Threads = BandThreads(p.Latent);
        freeBits.Launch(p.Threads, p, klTerms, means, scales);
    }

    readonly Kernel<Action<Index1D, FreeBitsProblem, ArrayView<double>, ArrayView<double>, ArrayView<float>>> freeBits = new(load, Kernels.FreeBits.DimensionsCpu);

    private protected override void LaunchLogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo,
        ArrayView<double> variance) =>
        logMeanExp.Launch(images, samples, logWeights, iwae, elbo, variance);

    readonly Kernel<Action<Index1D, int, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>> logMeanExp = new(load, Estimators.LogMeanExpCpu);

    private protected override void LaunchMutualInformation(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms)
    {
        int threads = BandThreads(count);
        mutualInformation.Launch(threads, count, latent, threads, heads, z, terms);
    }

    readonly Kernel<Action<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>> mutualInformation =
        new(load, Estimators.MutualInformationCpu);

    private protected override void LaunchDimensionStatistics(DimensionProblem p, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean) =>
        dimensionStatistics.Launch(p.Latent, p, sums, squares, kl, muVariance, klMean);

    readonly Kernel<Action<Index1D, DimensionProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>>> dimensionStatistics =
        new(load, Estimators.DimensionStatisticsCpu);
}
