using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>The total correlation's tiles on GPUs (<see cref="TcTiles"/>): groups of the MMD's size, blocks sized to the shared memory.</summary>
internal sealed partial class GpuKernels
{
    private protected override void LaunchTotalCorrelationRows(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        int block = TcBlockFor(p.Latent);
        tcRows.Launch(Groups(TcTiles.Groups(p.B, block), Shape.MmdGroup), p, block, z, heads, lse, rowTerms, dz);
    }

    readonly Kernel<Action<KernelConfig, TcProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<float>>> tcRows =
        new(load, TcTiles.RowsGpu);

    private protected override void LaunchTotalCorrelationColumns(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads)
    {
        int block = TcBlockFor(p.Latent);
        tcColumns.Launch(Groups(TcTiles.Groups(p.B, block), Shape.MmdGroup), p, block, z, heads, lse, dHeads);
    }

    readonly Kernel<Action<KernelConfig, TcProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>> tcColumns =
        new(load, TcTiles.ColumnsGpu);

    /// <summary>
    /// Rows or columns per block for <paramref name="latent"/> dimensions: the MMD's block where the shape fixes one (tests' small
    /// shapes), else the largest of 32, 16, … whose tiles fit the shared memory.
    /// </summary>
    int TcBlockFor(int latent)
    {
        long capacity = Math.Min(Shape.SharedBytes / sizeof(double), SharedScratch.MmdDoubles);
        int block = Shape.MmdBlock > 0 ? Shape.MmdBlock : 32;
        while (block > 1 && TcTiles.SharedDoubles(block, latent) > capacity) block /= 2;
        if (TcTiles.SharedDoubles(block, latent) > capacity)
            throw new DeviceFaultException($"The total correlation of {latent} latent dimensions does not fit the {capacity * sizeof(double)} bytes of shared memory its tiles may use. Use a smaller RunConfig.Latent.");
        return block;
    }
}
