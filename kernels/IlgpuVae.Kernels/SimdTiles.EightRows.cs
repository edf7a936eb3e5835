using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels;

/// <summary>
/// The broadcast products' tiles where the processor has 32 vector registers (AVX-512, at any vector width):
/// 8 rows × 3 vectors, then 8 rows × 1 vector for the columns a 3-vector panel leaves, the last of them through a
/// zero-padded panel and a scratch tile when fewer than a vector's columns remain (a 20-wide code layer would
/// otherwise leave 4 columns to scalar loops that cost more than the rest of its product). Per k, a 4-row × 2-vector
/// tile loads 2 vectors and broadcasts 4 values for 8 FMAs — as many loads as the core can issue, and only 8
/// independent FMA chains; 8 × 3 loads 3 and broadcasts 8 for 24 (measured on one core: 150 → 180 GFLOP/s).
/// A last group of fewer than 8 rows repeats its last row instead of falling back to slower code.
/// </summary>
static partial class SimdTiles<V>
{
    /// <summary>
    /// With 8-row tiles: where the 3-vector panels of columns [n0, n1) end, then the 1-vector panels; the columns
    /// left (fewer than a vector's), and the floats a packed row of B takes, the last panel padded to a vector.
    /// </summary>
    static (int Wide, int Narrow, int Tail, int PackedWidth) EightRowPanels(int n0, int n1)
    {
        int wide = n0 + (n1 - n0) / (3 * W) * 3 * W, narrow = wide + (n1 - wide) / W * W, tail = n1 - narrow;
        return (wide, narrow, tail, narrow - n0 + (tail > 0 ? W : 0));
    }

    /// <summary>Packs B's rows [k0, k1) of columns [n0, n1) as 3-vector panels, 1-vector panels, and the tail zero-padded to a vector.</summary>
    static void PackEightRowPanels(GemmProblem p, int n0, int n1, int k0, int k1, ref float b, ref float block)
    {
        var (wide, narrow, tail, _) = EightRowPanels(n0, n1);
        Pack(p, n0, wide, 3 * W, k0, k1, ref b, ref block);
        Pack(p, wide, narrow, W, k0, k1, ref b, ref At(ref block, (k1 - k0) * (wide - n0)));
        if (tail == 0) return;
        ref float padded = ref At(ref block, (k1 - k0) * (narrow - n0));
        for (int k = k0, to = 0; k < k1; k++, to += W)
            for (int lane = 0; lane < W; lane++)
                At(ref padded, to + lane) = lane < tail ? At(ref b, p.BOffset + k * p.BRow + (narrow + lane) * p.BCol) : 0f;
    }

    /// <summary>Rows [m0, m1) × columns [n0, n1), over k in [k0, k1), from the packed block.</summary>
    static void EightRowTiles(GemmProblem p, int m0, int m1, int n0, int n1, int k0, int k1, bool add, ref float a, ref float block, ref float c)
    {
        var (wide, narrow, tail, _) = EightRowPanels(n0, n1);
        Span<float> scratch = stackalloc float[tail > 0 ? 8 * W : 0];
        for (int m = m0; m < m1; m += 8)
        {
            int rows = Math.Min(8, m1 - m), panel = 0;
            for (int n = n0; n < wide; n += 3 * W, panel += (k1 - k0) * 3 * W)
                Tile8x3(p, m, rows, k0, k1, add, ref a, ref At(ref block, panel), ref At(ref c, m * p.N + n), p.N);
            for (int n = wide; n < narrow; n += W, panel += (k1 - k0) * W)
                Tile8x1(p, m, rows, k0, k1, add, ref a, ref At(ref block, panel), ref At(ref c, m * p.N + n), p.N);
            if (tail == 0) continue;
            // The last columns through a whole vector: C's values (or zeros) into a scratch tile and back.
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < W; j++)
                    scratch[i * W + j] = add && j < tail ? At(ref c, (m + i) * p.N + narrow + j) : 0f;
            Tile8x1(p, m, rows, k0, k1, add, ref a, ref At(ref block, panel), ref scratch[0], W);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < tail; j++)
                    At(ref c, (m + i) * p.N + narrow + j) = scratch[i * W + j];
        }
    }

    /// <summary>Where row m + i of A starts; past the <paramref name="rows"/> real rows, the last real one.</summary>
    static int RowOf(GemmProblem p, int m, int i, int rows) => p.AOffset + (m + Math.Min(i, rows - 1)) * p.ARow;

    /// <summary>
    /// Rows m..m+7 of A (the first <paramref name="rows"/> of them real: the others repeat the last and are not
    /// stored) times 3 vectors' columns: Σ over k in [k0, k1) with B from the packed panel, into the tile of C at
    /// <paramref name="c"/> (rows <paramref name="ldc"/> apart), added to what it holds when <paramref name="add"/>.
    /// 24 accumulators: only AVX-512's 32 vector registers hold them.
    /// </summary>
    static void Tile8x3(GemmProblem p, int m, int rows, int k0, int k1, bool add, ref float a, ref float panel, ref float c, int ldc)
    {
        int a0 = RowOf(p, m, 0, rows), a1 = RowOf(p, m, 1, rows), a2 = RowOf(p, m, 2, rows), a3 = RowOf(p, m, 3, rows);
        int a4 = RowOf(p, m, 4, rows), a5 = RowOf(p, m, 5, rows), a6 = RowOf(p, m, 6, rows), a7 = RowOf(p, m, 7, rows);
        V c00 = default, c01 = default, c02 = default;
        V c10 = default, c11 = default, c12 = default;
        V c20 = default, c21 = default, c22 = default;
        V c30 = default, c31 = default, c32 = default;
        V c40 = default, c41 = default, c42 = default;
        V c50 = default, c51 = default, c52 = default;
        V c60 = default, c61 = default, c62 = default;
        V c70 = default, c71 = default, c72 = default;
        if (add)
        {
            { c00 = Load(ref c, 0); c01 = Load(ref c, W); c02 = Load(ref c, 2 * W); }
            if (rows > 1) { c10 = Load(ref c, ldc); c11 = Load(ref c, ldc + W); c12 = Load(ref c, ldc + 2 * W); }
            if (rows > 2) { c20 = Load(ref c, 2 * ldc); c21 = Load(ref c, 2 * ldc + W); c22 = Load(ref c, 2 * ldc + 2 * W); }
            if (rows > 3) { c30 = Load(ref c, 3 * ldc); c31 = Load(ref c, 3 * ldc + W); c32 = Load(ref c, 3 * ldc + 2 * W); }
            if (rows > 4) { c40 = Load(ref c, 4 * ldc); c41 = Load(ref c, 4 * ldc + W); c42 = Load(ref c, 4 * ldc + 2 * W); }
            if (rows > 5) { c50 = Load(ref c, 5 * ldc); c51 = Load(ref c, 5 * ldc + W); c52 = Load(ref c, 5 * ldc + 2 * W); }
            if (rows > 6) { c60 = Load(ref c, 6 * ldc); c61 = Load(ref c, 6 * ldc + W); c62 = Load(ref c, 6 * ldc + 2 * W); }
            if (rows > 7) { c70 = Load(ref c, 7 * ldc); c71 = Load(ref c, 7 * ldc + W); c72 = Load(ref c, 7 * ldc + 2 * W); }
        }
        for (int k = k0, bk = 0; k < k1; k++, bk += 3 * W)
        {
            int ak = k * p.ACol;
            var y0 = Load(ref panel, bk); var y1 = Load(ref panel, bk + W); var y2 = Load(ref panel, bk + 2 * W);
            var x = V.Splat(At(ref a, a0 + ak)); c00 = Fma(x, y0, c00); c01 = Fma(x, y1, c01); c02 = Fma(x, y2, c02);
            x = V.Splat(At(ref a, a1 + ak)); c10 = Fma(x, y0, c10); c11 = Fma(x, y1, c11); c12 = Fma(x, y2, c12);
            x = V.Splat(At(ref a, a2 + ak)); c20 = Fma(x, y0, c20); c21 = Fma(x, y1, c21); c22 = Fma(x, y2, c22);
            x = V.Splat(At(ref a, a3 + ak)); c30 = Fma(x, y0, c30); c31 = Fma(x, y1, c31); c32 = Fma(x, y2, c32);
            x = V.Splat(At(ref a, a4 + ak)); c40 = Fma(x, y0, c40); c41 = Fma(x, y1, c41); c42 = Fma(x, y2, c42);
            x = V.Splat(At(ref a, a5 + ak)); c50 = Fma(x, y0, c50); c51 = Fma(x, y1, c51); c52 = Fma(x, y2, c52);
            x = V.Splat(At(ref a, a6 + ak)); c60 = Fma(x, y0, c60); c61 = Fma(x, y1, c61); c62 = Fma(x, y2, c62);
            x = V.Splat(At(ref a, a7 + ak)); c70 = Fma(x, y0, c70); c71 = Fma(x, y1, c71); c72 = Fma(x, y2, c72);
        }
        { V.Store(c00, ref c, 0); V.Store(c01, ref c, W); V.Store(c02, ref c, 2 * W); }
        if (rows > 1) { V.Store(c10, ref c, ldc); V.Store(c11, ref c, ldc + W); V.Store(c12, ref c, ldc + 2 * W); }
        if (rows > 2) { V.Store(c20, ref c, 2 * ldc); V.Store(c21, ref c, 2 * ldc + W); V.Store(c22, ref c, 2 * ldc + 2 * W); }
        if (rows > 3) { V.Store(c30, ref c, 3 * ldc); V.Store(c31, ref c, 3 * ldc + W); V.Store(c32, ref c, 3 * ldc + 2 * W); }
        if (rows > 4) { V.Store(c40, ref c, 4 * ldc); V.Store(c41, ref c, 4 * ldc + W); V.Store(c42, ref c, 4 * ldc + 2 * W); }
        if (rows > 5) { V.Store(c50, ref c, 5 * ldc); V.Store(c51, ref c, 5 * ldc + W); V.Store(c52, ref c, 5 * ldc + 2 * W); }
        if (rows > 6) { V.Store(c60, ref c, 6 * ldc); V.Store(c61, ref c, 6 * ldc + W); V.Store(c62, ref c, 6 * ldc + 2 * W); }
        if (rows > 7) { V.Store(c70, ref c, 7 * ldc); V.Store(c71, ref c, 7 * ldc + W); V.Store(c72, ref c, 7 * ldc + 2 * W); }
    }

    /// <summary>
    /// Rows m..m+7 of A (the first <paramref name="rows"/> of them real) times one vector's columns, as
    /// <see cref="Tile8x3"/> does. 8 accumulators: only AVX-512's 32 vector registers hold them.
    /// </summary>
    static void Tile8x1(GemmProblem p, int m, int rows, int k0, int k1, bool add, ref float a, ref float panel, ref float c, int ldc)
    {
        int a0 = RowOf(p, m, 0, rows), a1 = RowOf(p, m, 1, rows), a2 = RowOf(p, m, 2, rows), a3 = RowOf(p, m, 3, rows);
        int a4 = RowOf(p, m, 4, rows), a5 = RowOf(p, m, 5, rows), a6 = RowOf(p, m, 6, rows), a7 = RowOf(p, m, 7, rows);
        V c00 = default;
        V c10 = default;
        V c20 = default;
        V c30 = default;
        V c40 = default;
        V c50 = default;
        V c60 = default;
        V c70 = default;
        if (add)
        {
            { c00 = Load(ref c, 0); }
            if (rows > 1) { c10 = Load(ref c, ldc); }
            if (rows > 2) { c20 = Load(ref c, 2 * ldc); }
            if (rows > 3) { c30 = Load(ref c, 3 * ldc); }
            if (rows > 4) { c40 = Load(ref c, 4 * ldc); }
            if (rows > 5) { c50 = Load(ref c, 5 * ldc); }
            if (rows > 6) { c60 = Load(ref c, 6 * ldc); }
            if (rows > 7) { c70 = Load(ref c, 7 * ldc); }
        }
        for (int k = k0, bk = 0; k < k1; k++, bk += W)
        {
            int ak = k * p.ACol;
            var y0 = Load(ref panel, bk);
            var x = V.Splat(At(ref a, a0 + ak)); c00 = Fma(x, y0, c00);
            x = V.Splat(At(ref a, a1 + ak)); c10 = Fma(x, y0, c10);
            x = V.Splat(At(ref a, a2 + ak)); c20 = Fma(x, y0, c20);
            x = V.Splat(At(ref a, a3 + ak)); c30 = Fma(x, y0, c30);
            x = V.Splat(At(ref a, a4 + ak)); c40 = Fma(x, y0, c40);
            x = V.Splat(At(ref a, a5 + ak)); c50 = Fma(x, y0, c50);
            x = V.Splat(At(ref a, a6 + ak)); c60 = Fma(x, y0, c60);
            x = V.Splat(At(ref a, a7 + ak)); c70 = Fma(x, y0, c70);
        }
        { V.Store(c00, ref c, 0); }
        if (rows > 1) { V.Store(c10, ref c, ldc); }
        if (rows > 2) { V.Store(c20, ref c, 2 * ldc); }
        if (rows > 3) { V.Store(c30, ref c, 3 * ldc); }
        if (rows > 4) { V.Store(c40, ref c, 4 * ldc); }
        if (rows > 5) { V.Store(c50, ref c, 5 * ldc); }
        if (rows > 6) { V.Store(c60, ref c, 6 * ldc); }
        if (rows > 7) { V.Store(c70, ref c, 7 * ldc); }
    }
}
