using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The shape of one matrix product C[M, N] = epilogue(Σₖ A(m, k)·B(k, n)). A and B are strided views into
/// flat buffers (element (i, j) at Offset + i·Row + j·Col), so one kernel serves x·Wᵀ, dY·W and dYᵀ·x
/// without transposing anything. C is dense row-major [M, N].
/// </summary>
public struct GemmProblem
{
    public int M, N, K;
    public int AOffset, ARow, ACol;
    public int BOffset, BRow, BCol;
    /// <summary>The activation the epilogue applies (forward) or differentiates (backward).</summary>
    public int Activation;
    /// <summary>How many threads the launch has: each walks the tiles with this stride.</summary>
    public int Threads;

    /// <summary>Number of <see cref="Gemm.TileRows"/> × <see cref="Gemm.TileCols"/> output tiles.</summary>
    public readonly int Tiles => DivUp(M, Gemm.TileRows) * DivUp(N, Gemm.TileCols);

    internal static int DivUp(int a, int b) => (a + b - 1) / b;
}

/// <summary>What happens to an accumulated dot product before it is stored in C[m, n].</summary>
public interface IGemmEpilogue
{
    float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> aux);

    /// <summary>Whether <see cref="Apply"/> returns acc unchanged for <paramref name="p"/>, so a pass over C can be skipped.</summary>
    bool IsIdentity(GemmProblem p);
}

/// <summary>
/// A register-tiled matrix product: each thread owns 8×8 output tiles and walks them grid-stride, so a
/// launch needs few threads (the CPU accelerator pays about 1 µs per thread) and each loaded value is used
/// eight times. Edge tiles fall back to a scalar loop, so any M, N, K work.
/// </summary>
public static class Gemm
{
    public const int TileRows = 8;
    public const int TileCols = 8;

    /// <summary>Runs this thread's share of the tiles of <paramref name="p"/>.</summary>
    public static void Run<TEpilogue>(int thread, GemmProblem p,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        int tilesN = GemmProblem.DivUp(p.N, TileCols);
        int tiles = p.Tiles;
        for (int t = thread; t < tiles; t += p.Threads)
        {
            int m0 = t / tilesN * TileRows;
            int n0 = t % tilesN * TileCols;
            if (m0 + TileRows <= p.M && n0 + TileCols <= p.N)
                FullTile<TEpilogue>(m0, n0, p, a, b, c, aux);
            else
                EdgeTile<TEpilogue>(m0, n0, p, a, b, c, aux);
        }
    }

    static void FullTile<TEpilogue>(int m0, int n0, GemmProblem p,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        Row8 c0 = default, c1 = default, c2 = default, c3 = default;
        Row8 c4 = default, c5 = default, c6 = default, c7 = default;
        int aRow = p.AOffset + m0 * p.ARow;
        int bCol = p.BOffset + n0 * p.BCol;
        for (int k = 0; k < p.K; k++)
        {
            Row8 bk = Row8.Load(b, bCol + k * p.BRow, p.BCol);
            int ak = aRow + k * p.ACol;
            c0 = Row8.Fma(c0, a[ak], bk);
            c1 = Row8.Fma(c1, a[ak + p.ARow], bk);
            c2 = Row8.Fma(c2, a[ak + 2 * p.ARow], bk);
            c3 = Row8.Fma(c3, a[ak + 3 * p.ARow], bk);
            c4 = Row8.Fma(c4, a[ak + 4 * p.ARow], bk);
            c5 = Row8.Fma(c5, a[ak + 5 * p.ARow], bk);
            c6 = Row8.Fma(c6, a[ak + 6 * p.ARow], bk);
            c7 = Row8.Fma(c7, a[ak + 7 * p.ARow], bk);
        }
        Store<TEpilogue>(c0, m0, n0, p, c, aux);
        Store<TEpilogue>(c1, m0 + 1, n0, p, c, aux);
        Store<TEpilogue>(c2, m0 + 2, n0, p, c, aux);
        Store<TEpilogue>(c3, m0 + 3, n0, p, c, aux);
        Store<TEpilogue>(c4, m0 + 4, n0, p, c, aux);
        Store<TEpilogue>(c5, m0 + 5, n0, p, c, aux);
        Store<TEpilogue>(c6, m0 + 6, n0, p, c, aux);
        Store<TEpilogue>(c7, m0 + 7, n0, p, c, aux);
    }

    static void Store<TEpilogue>(Row8 r, int m, int n0, GemmProblem p, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        TEpilogue e = default;
        int row = m * p.N + n0;
        c[row] = e.Apply(r.V0, m, n0, p, aux);
        c[row + 1] = e.Apply(r.V1, m, n0 + 1, p, aux);
        c[row + 2] = e.Apply(r.V2, m, n0 + 2, p, aux);
        c[row + 3] = e.Apply(r.V3, m, n0 + 3, p, aux);
        c[row + 4] = e.Apply(r.V4, m, n0 + 4, p, aux);
        c[row + 5] = e.Apply(r.V5, m, n0 + 5, p, aux);
        c[row + 6] = e.Apply(r.V6, m, n0 + 6, p, aux);
        c[row + 7] = e.Apply(r.V7, m, n0 + 7, p, aux);
    }

    static void EdgeTile<TEpilogue>(int m0, int n0, GemmProblem p,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        TEpilogue e = default;
        int mEnd = m0 + TileRows < p.M ? m0 + TileRows : p.M;
        int nEnd = n0 + TileCols < p.N ? n0 + TileCols : p.N;
        for (int m = m0; m < mEnd; m++)
        {
            for (int n = n0; n < nEnd; n++)
            {
                float acc = 0f;
                int ai = p.AOffset + m * p.ARow, bi = p.BOffset + n * p.BCol;
                for (int k = 0; k < p.K; k++)
                    acc += a[ai + k * p.ACol] * b[bi + k * p.BRow];
                c[m * p.N + n] = e.Apply(acc, m, n, p, aux);
            }
        }
    }

    /// <summary>Eight accumulators of one output row; a struct of scalars so they stay in registers.</summary>
    struct Row8
    {
        public float V0, V1, V2, V3, V4, V5, V6, V7;

        public static Row8 Load(ArrayView<float> v, int start, int stride) => new()
        {
            V0 = v[start], V1 = v[start + stride], V2 = v[start + 2 * stride], V3 = v[start + 3 * stride],
            V4 = v[start + 4 * stride], V5 = v[start + 5 * stride], V6 = v[start + 6 * stride],
            V7 = v[start + 7 * stride],
        };

        public static Row8 Fma(Row8 acc, float a, Row8 b) => new()
        {
            V0 = acc.V0 + a * b.V0, V1 = acc.V1 + a * b.V1, V2 = acc.V2 + a * b.V2, V3 = acc.V3 + a * b.V3,
            V4 = acc.V4 + a * b.V4, V5 = acc.V5 + a * b.V5, V6 = acc.V6 + a * b.V6, V7 = acc.V7 + a * b.V7,
        };
    }
}
