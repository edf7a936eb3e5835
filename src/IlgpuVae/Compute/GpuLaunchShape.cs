using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// The launch sizes of <see cref="GpuKernels"/>, derived from what the accelerator reports, so the same rules
/// give an H200 its shapes and a CPU accelerator shaped like a GPU (<c>--kernels portable</c>) the same ones.
/// Tests make smaller shapes to cross many tile edges with small problems.
/// </summary>
/// <param name="GemmSide">A product's group is side × side threads owning a 4·side square of C (16: 256 threads, 64×64).</param>
/// <param name="NarrowGemmSide">The side for products too small to give every multiprocessor a group at <paramref name="GemmSide"/>.</param>
/// <param name="ReductionGroup">Threads of a group that reduces one row, image, code or dimension.</param>
/// <param name="MmdGroup">Threads of a group of the MMD's pairwise tiles.</param>
/// <param name="MmdBlock">Rows per MMD block; 0 for the largest of 32, 16, … whose tiles fit <paramref name="SharedBytes"/>.</param>
/// <param name="Multiprocessors">The device's multiprocessors, which the narrow-tile rule fills.</param>
/// <param name="SharedBytes">Shared memory a group may use.</param>
internal sealed record GpuLaunchShape(int GemmSide, int NarrowGemmSide, int ReductionGroup, int MmdGroup, int MmdBlock,
    int Multiprocessors, int SharedBytes)
{
    /// <summary>Without an opt-in attribute (which ILGPU 1.5 has not), a CUDA launch gets at most 48 KB of shared memory.</summary>
    public const int SharedLimit = 48 * 1024;

    /// <summary>The shape for <paramref name="accelerator"/>: 16×16 product groups and 256-thread reductions where allowed.</summary>
    public static GpuLaunchShape For(Accelerator accelerator)
    {
        int maxGroup = accelerator.MaxNumThreadsPerGroup;
        int side = 16;
        while (side > 1 && side * side > maxGroup) side /= 2;
        int reduction = 256;
        while (reduction > 1 && reduction > maxGroup) reduction /= 2;
        return new GpuLaunchShape(side, Math.Max(1, Math.Min(side, 8)), reduction, reduction, 0,
            Math.Max(1, accelerator.NumMultiprocessors), Math.Min(SharedLimit, accelerator.MaxSharedMemoryPerGroup));
    }

    /// <summary>The side for a launch of <paramref name="tiles"/>(side) groups: the narrow one when the wide one leaves multiprocessors idle.</summary>
    public int SideFor(Func<int, int> tiles) => tiles(GemmSide) >= Multiprocessors ? GemmSide : NarrowGemmSide;

    /// <summary>Rows per MMD block for <paramref name="latent"/> dimensions: the largest whose shared memory fits.</summary>
    public int MmdBlockFor(int latent)
    {
        if (MmdBlock > 0) return MmdBlock;
        int block = 32;
        while (block > 1 && MmdTiles.SharedDoubles(block, latent) * sizeof(double) > SharedBytes) block /= 2;
        if (MmdTiles.SharedDoubles(block, latent) * sizeof(double) > SharedBytes)
            throw new DeviceFaultException($"The MMD of {latent} latent dimensions does not fit the {SharedBytes} bytes of shared memory a group may use. Use a smaller --latent.");
        return block;
    }
}
