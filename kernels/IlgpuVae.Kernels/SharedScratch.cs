using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// Shared memory of the explicitly grouped GPU kernels: a static allocation of a fixed capacity in each kernel,
/// of which a launch uses what its shape needs. Not <c>SharedMemory.GetDynamic</c>: ILGPU 1.5.3's OpenCL backend
/// hands a kernel its dynamic shared memory through a program-scope variable (<c>local T* shared_var_N;</c>, beside
/// the kernel), which every work-group sets to its own local buffer when it starts and reads back afterwards.
/// Program-scope variables live in the global address space, so work-groups that run at the same time overwrite
/// each other's pointer and then compute in another group's shared memory. On a GPU every group's local buffer
/// has the same address, so the race stores one value and goes unseen; on a CPU OpenCL runtime (PoCL) each group's
/// buffer is its own host memory, and results change from run to run. A static allocation in the kernel itself is
/// declared inside the kernel function, one per work-group, as OpenCL means it (so is one in an inlined helper; ILGPU
/// inlines every helper of these kernels, and the compilation tests check the OpenCL C for program-scope pointers).
/// Call each allocating method once per kernel: every call site is an allocation of its own.
/// </summary>
public static class SharedScratch
{
    /// <summary>
    /// Doubles the MMD tiles may use: 32 KB, the least local memory OpenCL 2.0 promises a work-group (CUDA's static
    /// limit is 48 KB), so the kernel launches on every device ILGPU accepts.
    /// </summary>
    public const int MmdDoubles = 4096;

    /// <summary>One double per thread of a group of up to <see cref="GroupReductions.MaxGroup"/>, for <see cref="GroupReductions"/>.</summary>
    public static ArrayView<double> ForReduction() => SharedMemory.Allocate<double>(GroupReductions.MaxGroup);

    /// <summary>The slabs of <see cref="TiledGemm"/>: <see cref="TiledGemm.SharedCapacity"/> floats.</summary>
    public static ArrayView<float> ForProduct() => SharedMemory.Allocate<float>(TiledGemm.SharedCapacity);

    /// <summary>The tiles of <see cref="MmdTiles"/>: <see cref="MmdDoubles"/> doubles.</summary>
    public static ArrayView<double> ForMmd() => SharedMemory.Allocate<double>(MmdDoubles);
}
