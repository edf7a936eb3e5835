using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Four consecutive floats, loaded and stored as one element of an <c>ArrayView&lt;Float4&gt;</c>.</summary>
public struct Float4
{
    public float X, Y, Z, W;
}

/// <summary>
/// The matrix product of <see cref="Gemm"/> for the CPU accelerator, where each view access costs a bounds
/// check and a buffer check (a dozen instructions, and a call on the failure path that keeps accumulators out
/// of registers). Reading A and B as <see cref="Float4"/> pays that once per four values, and working four k
/// at a time adds four products to an accumulator per load and store of it: about 1.4× the scalar 8×8 tile
/// on one core. It needs M, N, K, the offsets and the strides to be multiples of four (<see cref="Fits"/>),
/// and A and B each contiguous along one axis in one of the three layouts the dense layers use:
///   x·Wᵀ   A rows and B columns run along k (dot products of quads);
///   dY·W   A rows run along k, B rows along n;
///   dYᵀ·x  A columns run along m, B rows along n.
/// No layout is transposed in registers: the JIT turns such shuffles into memory traffic.
/// </summary>
public static class QuadGemm
{
    public const int Tile = 4;

    /// <summary>Whether <paramref name="p"/> has a shape and layout this kernel runs (the views' own offsets are the caller's).</summary>
    public static bool Fits(GemmProblem p) =>
        p.M % 4 == 0 && p.N % 4 == 0 && p.K % 4 == 0 && p.AOffset % 4 == 0 && p.BOffset % 4 == 0
        && ((p.ACol == 1 && p.ARow % 4 == 0 && ((p.BRow == 1 && p.BCol % 4 == 0) || (p.BCol == 1 && p.BRow % 4 == 0)))
            || (p.ARow == 1 && p.ACol % 4 == 0 && p.BCol == 1 && p.BRow % 4 == 0));

    /// <summary>Number of 4×4 output tiles.</summary>
    public static int Tiles(GemmProblem p) => p.M / Tile * (p.N / Tile);

    /// <summary>Runs this thread's share of the 4×4 tiles of <paramref name="p"/>, grid-stride.</summary>
    public static void Run<TEpilogue>(int thread, GemmProblem p,
        ArrayView<Float4> a, ArrayView<Float4> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        int tilesN = p.N / Tile, tiles = Tiles(p);
        for (int t = thread; t < tiles; t += p.Threads)
            FullTile<TEpilogue>(t / tilesN * Tile, t % tilesN * Tile, p, a, b, c, aux);
    }

    static void FullTile<TEpilogue>(int m0, int n0, GemmProblem p,
        ArrayView<Float4> a, ArrayView<Float4> b, ArrayView<float> c, ArrayView<float> aux)
        where TEpilogue : struct, IGemmEpilogue
    {
        var acc = default(Accumulators);
        int quads = p.K / 4;
        if (p.ACol == 1)
        {
            // A's rows m0..m0+3 run along k: quad q of row r is at ai + r·aRow + q.
            int ai = (p.AOffset + m0 * p.ARow) / 4, aRow = p.ARow / 4;
            if (p.BRow == 1)
            {
                // B's columns n0..n0+3 run along k too (B(k, n) = W[n, k]).
                int bi = (p.BOffset + n0 * p.BCol) / 4, bCol = p.BCol / 4;
                for (int q = 0; q < quads; q++)
                    acc.AddDots(a[ai + q], a[ai + aRow + q], a[ai + 2 * aRow + q], a[ai + 3 * aRow + q],
                        b[bi + q], b[bi + bCol + q], b[bi + 2 * bCol + q], b[bi + 3 * bCol + q]);
            }
            else
            {
                // B's rows k..k+3 run along n: quad of row k at bi + k·bRow.
                int bi = (p.BOffset + n0) / 4, bRow = p.BRow / 4;
                for (int q = 0; q < quads; q++)
                {
                    int bk = bi + 4 * q * bRow;
                    acc.AddRowsTimesRows(a[ai + q], a[ai + aRow + q], a[ai + 2 * aRow + q], a[ai + 3 * aRow + q],
                        b[bk], b[bk + bRow], b[bk + 2 * bRow], b[bk + 3 * bRow]);
                }
            }
        }
        else
        {
            // A's columns k..k+3 run along m (A(m, k) = dY[k, m]), B's rows along n.
            int ai = (p.AOffset + m0) / 4, aCol = p.ACol / 4, bi = (p.BOffset + n0) / 4, bRow = p.BRow / 4;
            for (int q = 0; q < quads; q++)
            {
                int ak = ai + 4 * q * aCol, bk = bi + 4 * q * bRow;
                acc.AddColumnsTimesRows(a[ak], a[ak + aCol], a[ak + 2 * aCol], a[ak + 3 * aCol],
                    b[bk], b[bk + bRow], b[bk + 2 * bRow], b[bk + 3 * bRow]);
            }
        }
        acc.Store<TEpilogue>(m0, n0, p, c, aux);
    }

    /// <summary>The 4×4 tile's sums; Cᵣ꜀ is output (m0 + r, n0 + c).</summary>
    struct Accumulators
    {
        public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

        /// <summary>Cᵣ꜀ += aᵣ·b꜀: four A rows and four B columns, each a quad along k.</summary>
        public void AddDots(Float4 a0, Float4 a1, Float4 a2, Float4 a3, Float4 b0, Float4 b1, Float4 b2, Float4 b3)
        {
            C00 += Dot(a0, b0); C01 += Dot(a0, b1); C02 += Dot(a0, b2); C03 += Dot(a0, b3);
            C10 += Dot(a1, b0); C11 += Dot(a1, b1); C12 += Dot(a1, b2); C13 += Dot(a1, b3);
            C20 += Dot(a2, b0); C21 += Dot(a2, b1); C22 += Dot(a2, b2); C23 += Dot(a2, b3);
            C30 += Dot(a3, b0); C31 += Dot(a3, b1); C32 += Dot(a3, b2); C33 += Dot(a3, b3);
        }

        /// <summary>Cᵣ꜀ += Σⱼ aᵣ[j]·bⱼ[c]: four A rows (quads along k), four B rows (quads along n).</summary>
        public void AddRowsTimesRows(Float4 a0, Float4 a1, Float4 a2, Float4 a3, Float4 b0, Float4 b1, Float4 b2, Float4 b3)
        {
            C00 += Dot(a0.X, a0.Y, a0.Z, a0.W, b0.X, b1.X, b2.X, b3.X); C01 += Dot(a0.X, a0.Y, a0.Z, a0.W, b0.Y, b1.Y, b2.Y, b3.Y);
            C02 += Dot(a0.X, a0.Y, a0.Z, a0.W, b0.Z, b1.Z, b2.Z, b3.Z); C03 += Dot(a0.X, a0.Y, a0.Z, a0.W, b0.W, b1.W, b2.W, b3.W);
            C10 += Dot(a1.X, a1.Y, a1.Z, a1.W, b0.X, b1.X, b2.X, b3.X); C11 += Dot(a1.X, a1.Y, a1.Z, a1.W, b0.Y, b1.Y, b2.Y, b3.Y);
            C12 += Dot(a1.X, a1.Y, a1.Z, a1.W, b0.Z, b1.Z, b2.Z, b3.Z); C13 += Dot(a1.X, a1.Y, a1.Z, a1.W, b0.W, b1.W, b2.W, b3.W);
            C20 += Dot(a2.X, a2.Y, a2.Z, a2.W, b0.X, b1.X, b2.X, b3.X); C21 += Dot(a2.X, a2.Y, a2.Z, a2.W, b0.Y, b1.Y, b2.Y, b3.Y);
            C22 += Dot(a2.X, a2.Y, a2.Z, a2.W, b0.Z, b1.Z, b2.Z, b3.Z); C23 += Dot(a2.X, a2.Y, a2.Z, a2.W, b0.W, b1.W, b2.W, b3.W);
            C30 += Dot(a3.X, a3.Y, a3.Z, a3.W, b0.X, b1.X, b2.X, b3.X); C31 += Dot(a3.X, a3.Y, a3.Z, a3.W, b0.Y, b1.Y, b2.Y, b3.Y);
            C32 += Dot(a3.X, a3.Y, a3.Z, a3.W, b0.Z, b1.Z, b2.Z, b3.Z); C33 += Dot(a3.X, a3.Y, a3.Z, a3.W, b0.W, b1.W, b2.W, b3.W);
        }

        /// <summary>Cᵣ꜀ += Σⱼ aⱼ[r]·bⱼ[c]: four A columns (quads along m), four B rows (quads along n).</summary>
        public void AddColumnsTimesRows(Float4 a0, Float4 a1, Float4 a2, Float4 a3, Float4 b0, Float4 b1, Float4 b2, Float4 b3)
        {
            C00 += Dot(a0.X, a1.X, a2.X, a3.X, b0.X, b1.X, b2.X, b3.X); C01 += Dot(a0.X, a1.X, a2.X, a3.X, b0.Y, b1.Y, b2.Y, b3.Y);
            C02 += Dot(a0.X, a1.X, a2.X, a3.X, b0.Z, b1.Z, b2.Z, b3.Z); C03 += Dot(a0.X, a1.X, a2.X, a3.X, b0.W, b1.W, b2.W, b3.W);
            C10 += Dot(a0.Y, a1.Y, a2.Y, a3.Y, b0.X, b1.X, b2.X, b3.X); C11 += Dot(a0.Y, a1.Y, a2.Y, a3.Y, b0.Y, b1.Y, b2.Y, b3.Y);
            C12 += Dot(a0.Y, a1.Y, a2.Y, a3.Y, b0.Z, b1.Z, b2.Z, b3.Z); C13 += Dot(a0.Y, a1.Y, a2.Y, a3.Y, b0.W, b1.W, b2.W, b3.W);
            C20 += Dot(a0.Z, a1.Z, a2.Z, a3.Z, b0.X, b1.X, b2.X, b3.X); C21 += Dot(a0.Z, a1.Z, a2.Z, a3.Z, b0.Y, b1.Y, b2.Y, b3.Y);
            C22 += Dot(a0.Z, a1.Z, a2.Z, a3.Z, b0.Z, b1.Z, b2.Z, b3.Z); C23 += Dot(a0.Z, a1.Z, a2.Z, a3.Z, b0.W, b1.W, b2.W, b3.W);
            C30 += Dot(a0.W, a1.W, a2.W, a3.W, b0.X, b1.X, b2.X, b3.X); C31 += Dot(a0.W, a1.W, a2.W, a3.W, b0.Y, b1.Y, b2.Y, b3.Y);
            C32 += Dot(a0.W, a1.W, a2.W, a3.W, b0.Z, b1.Z, b2.Z, b3.Z); C33 += Dot(a0.W, a1.W, a2.W, a3.W, b0.W, b1.W, b2.W, b3.W);
        }

        public readonly void Store<TEpilogue>(int m0, int n0, GemmProblem p, ArrayView<float> c, ArrayView<float> aux)
            where TEpilogue : struct, IGemmEpilogue
        {
            StoreRow<TEpilogue>(C00, C01, C02, C03, m0, n0, p, c, aux);
            StoreRow<TEpilogue>(C10, C11, C12, C13, m0 + 1, n0, p, c, aux);
            StoreRow<TEpilogue>(C20, C21, C22, C23, m0 + 2, n0, p, c, aux);
            StoreRow<TEpilogue>(C30, C31, C32, C33, m0 + 3, n0, p, c, aux);
        }

        static void StoreRow<TEpilogue>(float v0, float v1, float v2, float v3, int m, int n0, GemmProblem p,
            ArrayView<float> c, ArrayView<float> aux)
            where TEpilogue : struct, IGemmEpilogue
        {
            TEpilogue e = default;
            int row = m * p.N + n0;
            c[row] = e.Apply(v0, m, n0, p, aux);
            c[row + 1] = e.Apply(v1, m, n0 + 1, p, aux);
            c[row + 2] = e.Apply(v2, m, n0 + 2, p, aux);
            c[row + 3] = e.Apply(v3, m, n0 + 3, p, aux);
        }

        static float Dot(Float4 a, Float4 b) => a.X * b.X + a.Y * b.Y + a.Z * b.Z + a.W * b.W;

        static float Dot(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3) =>
            a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
    }
}
