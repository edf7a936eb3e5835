using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The matrix product of <see cref="Gemm"/> for the CPU accelerator. That accelerator runs a kernel as .NET
/// code on its simulated threads, but ILGPU first compiles every kernel into its own IR, which has no vector
/// types, so a kernel body is scalar code (about 5 GFLOP/s per core here). This kernel is ordinary ILGPU code:
/// it gives each thread a band of C's rows and applies the epilogue to it. The product of a band is
/// <see cref="ProductRows"/>, marked <c>[External]</c> — opaque to ILGPU's IR, the way a GPU kernel calls a
/// library function — so .NET compiles it with the processor's vector FMAs (AVX2, AVX-512 or NEON through
/// <see cref="Vector{T}"/>): 60–90 GFLOP/s on the 784↔400 products at batch 128 on two cores (<c>bench</c>; the
/// README's table). GPUs never load it; there <see cref="TiledGemm"/> runs.
/// </summary>
public static class SimdGemm
{
    /// <summary>Rows of C one thread's band is made of (the micro-tile height).</summary>
    public const int RowBlock = 4;

    /// <summary>
    /// How many threads a launch of <paramref name="p"/> uses: one band each, at most <paramref name="maxThreads"/>;
    /// none for a problem without rows.
    /// </summary>
    public static int Threads(GemmProblem p, int maxThreads) =>
        p.M <= 0 ? 0 : Math.Max(1, Math.Min(maxThreads, GemmProblem.DivUp(p.M, RowBlock)));

    /// <summary>Rows [m0, m1) of C that <paramref name="thread"/> owns: whole row blocks, split evenly.</summary>
    public static (int M0, int M1) Band(int thread, GemmProblem p)
    {
        int blocks = GemmProblem.DivUp(p.M, RowBlock);
        int m0 = (int)((long)blocks * thread / p.Threads) * RowBlock;
        int m1 = (int)((long)blocks * (thread + 1) / p.Threads) * RowBlock;
        return (m0, m1 > p.M ? p.M : m1);
    }

    /// <summary>This thread's band of rows: the product, then the epilogue on each of its outputs.</summary>
    public static void Run<TEpilogue>(int thread, GemmProblem p,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        var (m0, m1) = Band(thread, p);
        if (m0 >= m1) return;
        // An accumulating product adds into C as it goes; its epilogue would read C after the product overwrote it.
        bool add = p.Epilogue == (int)Epilogue.Accumulate;
        ProductRows(p, m0, m1, add ? 1 : 0, a, b, c);

        TEpilogue e = default;
        if (add || e.IsIdentity(p)) return;
        for (int m = m0; m < m1; m++)
            for (int n = 0, i = m * p.N; n < p.N; n++, i++)
                c[i] = e.Apply(c[i], m, n, p, aux);
    }

    /// <summary>
    /// C[m, n] = Σₖ A(m, k)·B(k, n) for rows m0 ≤ m &lt; m1 — added to what C holds when <paramref name="add"/> is 1. Vectorized along k when A's rows and B's columns
    /// run along k (x·Wᵀ) and k is long, along n when B's rows do (dY·W, dYᵀ·x) or B is small enough to copy
    /// that way; any other layout takes a scalar loop.
    /// The host has checked that the views hold every element the problem names: nothing is checked here.
    /// </summary>
    [External("ilgpuvae_simd_gemm_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ProductRows(GemmProblem p, int m0, int m1, int add, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        ref float ra = ref a[0], rb = ref b[0], rc = ref c[0];
        if (p.ACol == 1 && p.BRow == 1 && p.K <= 4 * Vector<float>.Count && p.K * p.N <= 8192)
        {
            // Dot products of a few vectors spend more on summing lanes than on multiplying: copy the small
            // B into rows along n instead (a 4×4 conv over one channel has K = 16) and broadcast A.
            Span<float> rows = stackalloc float[p.K * p.N];
            for (int k = 0; k < p.K; k++)
                for (int n = 0; n < p.N; n++)
                    rows[k * p.N + n] = Unsafe.Add(ref rb, p.BOffset + k * p.BRow + n * p.BCol);
            var q = p with { BOffset = 0, BRow = p.N, BCol = 1 };
            SimdTiles.BroadcastRows(q, m0, m1, add != 0, ref ra, ref rows[0], ref rc);
        }
        else if (p.ACol == 1 && p.BRow == 1) SimdTiles.DotRows(p, m0, m1, add != 0, ref ra, ref rb, ref rc);
        else if (p.BCol == 1) SimdTiles.BroadcastRows(p, m0, m1, add != 0, ref ra, ref rb, ref rc);
        else SimdTiles.ScalarRows(p, m0, m1, add != 0, ref ra, ref rb, ref rc);
    }

    /// <summary>
    /// sums[m] = Σₖ A(m, k) for rows m0 ≤ m &lt; m1 (the bias gradient beside dW = dPreᵀ·x), in k order;
    /// vectorized along m when A's rows are adjacent (ARow = 1). Unchecked, as <see cref="ProductRows"/>.
    /// </summary>
    [External("ilgpuvae_simd_row_sums")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowSums(GemmProblem p, int m0, int m1, ArrayView<float> a, ArrayView<float> sums) =>
        SimdTiles.RowSums(p, m0, m1, ref a[0], ref sums[0]);
}
