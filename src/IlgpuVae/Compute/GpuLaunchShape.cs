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
/// <param name="SharedBytes">Shared memory a group may use (the MMD's blocks are sized to fit it and <see cref="SharedScratch.MmdDoubles"/>).</param>
internal sealed record GpuLaunchShape(int GemmSide, int NarrowGemmSide, int ReductionGroup, int MmdGroup, int MmdBlock,
    int Multiprocessors, int SharedBytes)
{
    /// <summary>Without an opt-in attribute (which ILGPU 1.5 has not), a CUDA launch gets at most 48 KB of shared memory.</summary>
    public const int SharedLimit = 48 * 1024;

    /// <summary>The shape for <paramref name="accelerator"/>: 16×16 product groups and 256-thread reductions where allowed.</summary>
    public static GpuLaunchShape For(Accelerator accelerator) =>
        For(accelerator.MaxNumThreadsPerGroup, accelerator.NumMultiprocessors, accelerator.MaxSharedMemoryPerGroup);

    /// <summary>
    /// The shape the rules give a device with groups of up to <paramref name="maxGroup"/> threads, <paramref name="multiprocessors"/>
    /// multiprocessors and <paramref name="sharedBytes"/> of shared memory per group (tests force other devices' shapes with it).
    /// </summary>
    public static GpuLaunchShape For(int maxGroup, int multiprocessors, long sharedBytes)
    {
        int side = TiledGemm.MaxSide;
        while (side > 1 && side * side > maxGroup) side /= 2;
        int reduction = GroupReductions.MaxGroup;
        while (reduction > 1 && reduction > maxGroup) reduction /= 2;
        return new GpuLaunchShape(side, Math.Max(1, Math.Min(side, 8)), reduction, reduction, 0,
            Math.Max(1, multiprocessors), (int)Math.Min(SharedLimit, sharedBytes)).Checked();
    }

    /// <summary>
    /// This shape, after checking that the kernels' static shared allocations (<see cref="SharedScratch"/>) serve it: a
    /// product side up to <see cref="TiledGemm.MaxSide"/>, reductions of up to <see cref="GroupReductions.MaxGroup"/> threads.
    /// </summary>
    public GpuLaunchShape Checked()
    {
        if (GemmSide < 1 || GemmSide > TiledGemm.MaxSide || NarrowGemmSide < 1 || NarrowGemmSide > GemmSide)
            throw new InternalFaultException($"Product groups of side {GemmSide} (narrow {NarrowGemmSide}): the shared slabs hold sides 1 to {TiledGemm.MaxSide}.");
        if (ReductionGroup < 1 || ReductionGroup > GroupReductions.MaxGroup || MmdGroup < 1)
            throw new InternalFaultException($"Reductions of {ReductionGroup} threads: the shared scratch holds 1 to {GroupReductions.MaxGroup}.");
        return this;
    }

    /// <summary>The side for a launch of <paramref name="tiles"/>(side) groups: the narrow one when the wide one leaves multiprocessors idle.</summary>
    public int SideFor(Func<int, int> tiles) => tiles(GemmSide) >= Multiprocessors ? GemmSide : NarrowGemmSide;

    /// <summary>Rows per MMD block for <paramref name="latent"/> dimensions: the largest whose tiles fit the shared memory.</summary>
    public int MmdBlockFor(int latent)
    {
        long capacity = Math.Min(SharedBytes / sizeof(double), SharedScratch.MmdDoubles);
        int block = MmdBlock > 0 ? MmdBlock : 32;
        while (MmdBlock == 0 && block > 1 && MmdTiles.SharedDoubles(block, latent) > capacity) block /= 2;
        if (MmdTiles.SharedDoubles(block, latent) > capacity)
            throw new DeviceFaultException($"The MMD of {latent} latent dimensions does not fit the {capacity * sizeof(double)} bytes of shared memory its tiles may use. Use a smaller RunConfig.Latent.");
        return block;
    }
}
