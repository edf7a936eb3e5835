using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The matrix product of <see cref="GemmProblem"/> for the CPU accelerator. That accelerator runs a kernel as .NET
/// code on its simulated threads, but ILGPU first compiles every kernel into its own IR, which has no vector
/// types, so a kernel body is scalar code (about 5 GFLOP/s per core here). This kernel is ordinary ILGPU code:
/// it gives each thread a band of C's rows and applies the epilogue to it. The product of a band is
/// <see cref="ProductBlock"/>, marked <c>[External]</c> — opaque to ILGPU's IR, the way a GPU kernel calls a
/// library function — so .NET compiles it with the processor's vector FMAs (AVX2, AVX-512 or NEON through
/// <see cref="Vector{T}"/>, or 512 bits wide through <see cref="Lanes512"/> where the runtime favours it): 110–160 GFLOP/s forward and 80–130 backward on the 784↔400 products at batch 128 on two cores (<c>bench</c>; the
/// README's table). GPUs never load it; there <see cref="TiledGemm"/> runs.
/// </summary>
public static class SimdGemm
{
    /// <summary>Rows of C one thread's band is made of (the micro-tile height).</summary>
    public const int RowBlock = 4;

    /// <summary>Columns of C a column band is made of: a cache line of floats, so no two threads write one line.</summary>
    public const int ColumnBlock = 16;

    /// <summary>
    /// Whether C is better split by columns: where it has fewer rows than columns and B is large (a weight
    /// gradient over many rows, M = 64 outputs by N = 512 taps over K = 6272 positions), every row band would
    /// stream all of B from memory, and a column band streams its share; the rows' A is the smaller operand.
    /// </summary>
    public static bool SplitsColumns(GemmProblem p, int maxThreads) =>
        maxThreads > 1 && p.M < p.N && p.N >= 2 * maxThreads * ColumnBlock && (long)p.K * p.N >= 1 << 17;

    /// <summary>
    /// How many threads a launch of <paramref name="p"/> uses: one band each, at most <paramref name="maxThreads"/>;
    /// none for a problem without rows.
    /// </summary>
    public static int Threads(GemmProblem p, int maxThreads) =>
        p.M <= 0 ? 0 : Math.Max(1, Math.Min(maxThreads, p.ColumnBands != 0 ? GemmProblem.DivUp(p.N, ColumnBlock) : GemmProblem.DivUp(p.M, RowBlock)));

    /// <summary>
    /// The block of C that <paramref name="thread"/> owns, rows [M0, M1) × columns [N0, N1): whole row blocks of
    /// every column, or whole column blocks of every row (<see cref="GemmProblem.ColumnBands"/>), split evenly.
    /// </summary>
    public static (int M0, int M1, int N0, int N1) Band(int thread, GemmProblem p)
    {
        if (p.ColumnBands != 0)
        {
            var (n0, n1) = Split(thread, p.Threads, p.N, ColumnBlock);
            return (0, p.M, n0, n1);
        }
        var (m0, m1) = Split(thread, p.Threads, p.M, RowBlock);
        return (m0, m1, 0, p.N);
    }

    /// <summary>Share <paramref name="thread"/> of <paramref name="length"/> items in whole blocks.</summary>
    static (int From, int To) Split(int thread, int threads, int length, int block)
    {
        int blocks = GemmProblem.DivUp(length, block);
        int from = (int)((long)blocks * thread / threads) * block;
        int to = (int)((long)blocks * (thread + 1) / threads) * block;
        return (from, to > length ? length : to);
    }

    /// <summary>This thread's band of C = epilogue(A·B).</summary>
    public static void Run(int thread, GemmProblem p,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
    {
        var (m0, m1, n0, n1) = Band(thread, p);
        if (m0 < m1 && n0 < n1) ProductBlock(p, m0, m1, n0, n1, a, b, c, aux);
    }

    /// <summary>
    /// C[m, n] = epilogue(Σₖ A(m, k)·B(k, n)) for rows m0 ≤ m &lt; m1 and columns n0 ≤ n &lt; n1. Vectorized along k when A's rows and B's
    /// columns run along k (x·Wᵀ) and k is long, along n when B's rows do (dY·W, dYᵀ·x) or B is small enough to
    /// copy that way; any other layout takes a scalar loop. The epilogue is vector code too
    /// (<see cref="SimdRows.EpilogueRows"/>), run on each chunk of rows right after its product, while the chunk
    /// is still in cache: in ILGPU's scalar IR a pass over C cost more than the product it followed.
    /// The host has checked that the views hold every element the problem names: nothing is checked here.
    /// </summary>
    [External("ilgpuvae_simd_gemm_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ProductBlock(GemmProblem p, int m0, int m1, int n0, int n1, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
    {
        ref float rx = ref aux.Length > 0 ? ref aux[0] : ref Unsafe.NullRef<float>();
        if (Lanes512.Preferred) Product<Lanes512>(p, m0, m1, n0, n1, ref a[0], ref b[0], ref c[0], ref rx, EightRowTiles);
        else Product<VectorLanes>(p, m0, m1, n0, n1, ref a[0], ref b[0], ref c[0], ref rx, EightRowTiles);
    }

    /// <summary>Whether the broadcast products take 8-row tiles: their 24 accumulators need AVX-512's 32 vector registers (at any width).</summary>
    public static bool EightRowTiles => Avx512F.IsSupported;

    /// <summary><see cref="ProductBlock"/> with vectors <typeparamref name="V"/> wide and the given tiles (the tests run every combination).</summary>
    internal static void Product<V>(GemmProblem p, int m0, int m1, int n0, int n1, ref float ra, ref float rb, ref float rc, ref float rx,
        bool eightRows) where V : struct, ILanes<V>
    {
        // An accumulating product adds into C as it goes; the rest of the epilogue follows the product.
        bool add = Epilogues.Accumulates(p), epilogue = !Epilogues.IsIdentity(p);
        // Dot products of a few vectors spend more on summing lanes than on multiplying: copy a small B
        // into rows along n instead (a 4×4 conv over one channel has K = 16) and broadcast A.
        bool copyB = p.ACol == 1 && p.BRow == 1 && p.K <= 4 * Vector<float>.Count && p.K * p.N <= 8192;
        Span<float> rows = copyB ? stackalloc float[p.K * p.N] : default;
        if (copyB)
        {
            for (int k = 0; k < p.K; k++)
                for (int n = 0; n < p.N; n++)
                    rows[k * p.N + n] = Unsafe.Add(ref rb, p.BOffset + k * p.BRow + n * p.BCol);
        }
        // Many rows of x·Wᵀ: B's columns packed once for the band, then broadcast tiles (no lane sums).
        bool packColumns = rows.IsEmpty && SimdTiles<V>.PacksColumns(p, m1 - m0);
        if (packColumns) SimdTiles<V>.PackAll(p, n0, n1, eightRows, ref rb);
        // Chunks of about 128 KB of C, so the epilogue reads what the product has just written from cache.
        int chunk = epilogue ? Math.Max(RowBlock, 32768 / (n1 - n0) / RowBlock * RowBlock) : m1 - m0;
        for (int r0 = m0; r0 < m1; r0 += chunk)
        {
            int r1 = Math.Min(m1, r0 + chunk);
            if (!rows.IsEmpty)
                SimdTiles<V>.BroadcastRows(p with { BOffset = 0, BRow = p.N, BCol = 1 }, r0, r1, n0, n1, add, ref ra, ref rows[0], ref rc, eightRows);
            else if (packColumns) SimdTiles<V>.BroadcastRows(p, r0, r1, n0, n1, add, ref ra, ref rb, ref rc, eightRows, packedAlready: true);
            else if (p.ACol == 1 && p.BRow == 1) SimdTiles<V>.DotRows(p, r0, r1, n0, n1, add, ref ra, ref rb, ref rc);
            else if (p.BCol == 1) SimdTiles<V>.BroadcastRows(p, r0, r1, n0, n1, add, ref ra, ref rb, ref rc, eightRows);
            else SimdRows.ScalarRows(p, r0, r1, n0, n1, add, ref ra, ref rb, ref rc);
            if (epilogue) SimdRows.EpilogueRows(p, r0, r1, n0, n1, ref rc, ref rx);
        }
    }

    /// <summary>
    /// sums[m] = Σₖ A(m, k) for rows m0 ≤ m &lt; m1 (the bias gradient beside dW = dPreᵀ·x), in k order;
    /// vectorized along m when A's rows are adjacent (ARow = 1). Unchecked, as <see cref="ProductBlock"/>.
    /// </summary>
    [External("ilgpuvae_simd_row_sums")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowSums(GemmProblem p, int m0, int m1, ArrayView<float> a, ArrayView<float> sums) =>
        SimdRows.RowSums(p, m0, m1, ref a[0], ref sums[0]);
}
