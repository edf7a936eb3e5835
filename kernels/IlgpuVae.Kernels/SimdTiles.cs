using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels;

/// <summary>
/// The vector micro-kernels of the products behind <see cref="SimdGemm.ProductBlock"/>, for vectors of any width
/// <typeparamref name="V"/> (<see cref="ILanes{V}"/>): plain .NET code, never seen by ILGPU's IR. A, B and C are
/// refs to element 0 of their views; (m, k) of A is at AOffset + m·ARow + k·ACol, and so on. Each keeps a 4-row
/// tile of accumulators in registers and reuses every loaded vector four times.
/// </summary>
static partial class SimdTiles<V> where V : struct, ILanes<V>
{
    static int W => V.Count;

    static V Load(ref float r, int i) => V.Load(ref r, i);

    static V Fma(V x, V y, V acc) => V.Fma(x, y, acc);

    static ref float At(ref float r, int i) => ref Unsafe.Add(ref r, i);

    static void Put(bool add, ref float c, int i, float value) => SimdRows.Put(add, ref c, i, value);

    // ---- A rows and B columns along k (x·Wᵀ): vector dot products, summed across lanes at the end ------------

    /// <summary>4×4 output tiles, each output a dot product of two k-contiguous runs.</summary>
    public static void DotRows(GemmProblem p, int m0, int m1, int n0, int n1, bool add, ref float a, ref float b, ref float c)
    {
        int m = m0;
        for (; m + 4 <= m1; m += 4)
        {
            int a0 = p.AOffset + m * p.ARow, a1 = a0 + p.ARow, a2 = a1 + p.ARow, a3 = a2 + p.ARow;
            int n = n0;
            for (; n + 4 <= n1; n += 4)
            {
                int b0 = p.BOffset + n * p.BCol, b1 = b0 + p.BCol, b2 = b1 + p.BCol, b3 = b2 + p.BCol;
                V c00 = default, c01 = default, c02 = default, c03 = default;
                V c10 = default, c11 = default, c12 = default, c13 = default;
                V c20 = default, c21 = default, c22 = default, c23 = default;
                V c30 = default, c31 = default, c32 = default, c33 = default;
                int kv = p.K - p.K % W;
                for (int k = 0; k < kv; k += W)
                {
                    var x0 = Load(ref a, a0 + k); var x1 = Load(ref a, a1 + k);
                    var x2 = Load(ref a, a2 + k); var x3 = Load(ref a, a3 + k);
                    var y = Load(ref b, b0 + k);
                    c00 = Fma(x0, y, c00); c10 = Fma(x1, y, c10); c20 = Fma(x2, y, c20); c30 = Fma(x3, y, c30);
                    y = Load(ref b, b1 + k);
                    c01 = Fma(x0, y, c01); c11 = Fma(x1, y, c11); c21 = Fma(x2, y, c21); c31 = Fma(x3, y, c31);
                    y = Load(ref b, b2 + k);
                    c02 = Fma(x0, y, c02); c12 = Fma(x1, y, c12); c22 = Fma(x2, y, c22); c32 = Fma(x3, y, c32);
                    y = Load(ref b, b3 + k);
                    c03 = Fma(x0, y, c03); c13 = Fma(x1, y, c13); c23 = Fma(x2, y, c23); c33 = Fma(x3, y, c33);
                }
                int r = m * p.N + n;
                StoreDots(p, add, ref c, r, c00, c01, c02, c03, ref a, a0, ref b, b0, kv);
                StoreDots(p, add, ref c, r + p.N, c10, c11, c12, c13, ref a, a1, ref b, b0, kv);
                StoreDots(p, add, ref c, r + 2 * p.N, c20, c21, c22, c23, ref a, a2, ref b, b0, kv);
                StoreDots(p, add, ref c, r + 3 * p.N, c30, c31, c32, c33, ref a, a3, ref b, b0, kv);
            }
            for (int i = 0; i < 4; i++)
                DotRow(p, m + i, n, n1, add, ref a, ref b, ref c);
        }
        for (; m < m1; m++)
            DotRow(p, m, n0, n1, add, ref a, ref b, ref c);
    }

    /// <summary>Four outputs of one row: each lane-summed accumulator plus the k beyond the last whole vector.</summary>
    static void StoreDots(GemmProblem p, bool add, ref float c, int r, V s0, V s1, V s2, V s3,
        ref float a, int ai, ref float b, int b0, int kv)
    {
        Put(add, ref c, r, V.Sum(s0) + TailDot(ref a, ai, ref b, b0, kv, p.K));
        Put(add, ref c, r + 1, V.Sum(s1) + TailDot(ref a, ai, ref b, b0 + p.BCol, kv, p.K));
        Put(add, ref c, r + 2, V.Sum(s2) + TailDot(ref a, ai, ref b, b0 + 2 * p.BCol, kv, p.K));
        Put(add, ref c, r + 3, V.Sum(s3) + TailDot(ref a, ai, ref b, b0 + 3 * p.BCol, kv, p.K));
    }

    /// <summary>Outputs [n0, n1) of row m, one dot product each (the edges of <see cref="DotRows"/>).</summary>
    static void DotRow(GemmProblem p, int m, int n0, int n1, bool add, ref float a, ref float b, ref float c)
    {
        int ai = p.AOffset + m * p.ARow, kv = p.K - p.K % W;
        for (int n = n0; n < n1; n++)
        {
            int bi = p.BOffset + n * p.BCol;
            V acc = default;
            for (int k = 0; k < kv; k += W)
                acc = Fma(Load(ref a, ai + k), Load(ref b, bi + k), acc);
            Put(add, ref c, m * p.N + n, V.Sum(acc) + TailDot(ref a, ai, ref b, bi, kv, p.K));
        }
    }

    static float TailDot(ref float a, int ai, ref float b, int bi, int from, int to)
    {
        float sum = 0f;
        for (int k = from; k < to; k++)
            sum += At(ref a, ai + k) * At(ref b, bi + k);
        return sum;
    }

    // ---- B rows along n (dY·W, dYᵀ·x): A(m, k) broadcast, times a vector of B's row k ---------------------

    /// <summary>Floats of B one thread packs at a time (256 KB, within a core's L2 cache).</summary>
    const int PackFloats = 65536;

    /// <summary>Each thread's packed block of B, grown to the largest product it has run and kept.</summary>
    [ThreadStatic] static float[]? packed;

    /// <summary>
    /// Output tiles of 4 rows × 2 vectors, or with <paramref name="eightRows"/> of 8 rows × 3 and × 1 vectors
    /// (where there are registers for them, <see cref="SimdGemm.EightRowTiles"/>); A may have any strides, B's rows or columns run along n or k. K is walked in
    /// blocks, and each block of B is first packed as panels of the tiles' columns, each panel's rows contiguous,
    /// which every row tile then reads in order. Unpacked, a panel's rows lie a whole row of B apart — 2 KB for
    /// N = 512 — so they fall into a few sets of the L1 cache and evict each other, and the prefetcher cannot
    /// follow them. With <paramref name="packedAlready"/>, <see cref="PackAll"/> has packed every block once for
    /// the whole band. With 4-row tiles the columns past the last panel and the rows past the last tile are edges:
    /// a vector at a time along n where B's rows run along n, dot products along k where its columns do.
    /// </summary>
    public static void BroadcastRows(GemmProblem p, int m0, int m1, int n0, int n1, bool add, ref float a, ref float b, ref float c,
        bool eightRows, bool packedAlready = false)
    {
        var (panelled, width, depth) = Panels(p, n0, n1, eightRows);
        int tiled = eightRows ? m1 : m0 + (m1 - m0) / 4 * 4;
        ref float pack = ref packedAlready ? ref MemoryMarshal.GetArrayDataReference(packed!) : ref Buffer(depth * width);
        for (int k0 = 0; k0 < p.K; k0 += depth)
        {
            int k1 = Math.Min(p.K, k0 + depth);
            bool onto = add || k0 > 0;
            ref float block = ref packedAlready ? ref At(ref pack, k0 * width) : ref pack;
            if (!packedAlready) PackBlock(p, n0, n1, k0, k1, eightRows, ref b, ref block);
            if (eightRows)
            {
                EightRowTiles(p, m0, m1, n0, n1, k0, k1, onto, ref a, ref block, ref c);
                continue;
            }
            for (int m = m0; m < tiled; m += 4)
                for (int n = n0, panel = 0; n < panelled; n += 2 * W, panel += (k1 - k0) * 2 * W)
                    BroadcastTile(p, m, n, k0, k1, onto, ref a, ref At(ref block, panel), ref c);
            if (p.BCol == 1)
                for (int m = m0; m < m1; m++)
                    BroadcastRow(p, m, m < tiled ? panelled : n0, n1, k0, k1, onto, ref a, ref b, ref c);
        }
        if (!eightRows && p.BCol != 1)
        {
            for (int m = m0; m < tiled; m++) DotRow(p, m, panelled, n1, add, ref a, ref b, ref c);
            for (int m = tiled; m < m1; m++) DotRow(p, m, n0, n1, add, ref a, ref b, ref c);
        }
    }

    /// <summary>
    /// Whether a band of <paramref name="rows"/> rows of x·Wᵀ (B's columns along k) is better as packed broadcast
    /// tiles than as dot products, which end every output in a sum across lanes: packing B costs K·N scalar moves,
    /// worth it from a batch of 128 (BenchmarkDotNet, dense forward at batch 128: 117–135 → 127–193 GFLOP/s).
    /// </summary>
    public static bool PacksColumns(GemmProblem p, int rows) => p.BRow == 1 && p.ACol == 1 && rows >= 128 && p.N >= 2 * W;

    /// <summary>Packs every K block of B's columns [n0, n1) for <see cref="BroadcastRows"/> with packedAlready, once for a band of many row chunks.</summary>
    public static void PackAll(GemmProblem p, int n0, int n1, bool eightRows, ref float b)
    {
        var (_, width, depth) = Panels(p, n0, n1, eightRows);
        ref float pack = ref Buffer(p.K * width);
        for (int k0 = 0; k0 < p.K; k0 += depth)
            PackBlock(p, n0, n1, k0, Math.Min(p.K, k0 + depth), eightRows, ref b, ref At(ref pack, k0 * width));
    }

    /// <summary>
    /// The end of the columns the tiles cover (8-row tiles cover all), the floats a packed row of B takes, and the
    /// K block whose panels fill <see cref="PackFloats"/>.
    /// </summary>
    static (int Panelled, int Width, int Depth) Panels(GemmProblem p, int n0, int n1, bool eightRows)
    {
        int panelled = eightRows ? n1 : n1 - (n1 - n0) % (2 * W);
        int width = eightRows ? EightRowPanels(n0, n1).PackedWidth : panelled - n0;
        return (panelled, width, Math.Clamp(PackFloats / Math.Max(W, width), 16, 512));
    }

    /// <summary>This thread's packing buffer, at least <paramref name="floats"/> long (a null ref for none).</summary>
    static ref float Buffer(int floats)
    {
        if (floats <= 0) return ref Unsafe.NullRef<float>();
        if (packed is null || packed.Length < floats) packed = new float[floats];
        return ref MemoryMarshal.GetArrayDataReference(packed);
    }

    /// <summary>B's rows [k0, k1) of the panelled columns of [n0, n1), as the tiles read them.</summary>
    static void PackBlock(GemmProblem p, int n0, int n1, int k0, int k1, bool eightRows, ref float b, ref float block)
    {
        if (eightRows) PackEightRowPanels(p, n0, n1, k0, k1, ref b, ref block);
        else Pack(p, n0, n1 - (n1 - n0) % (2 * W), 2 * W, k0, k1, ref b, ref block);
    }

    /// <summary>B's rows [k0, k1) of columns [n0, end) as panels <paramref name="width"/> columns wide, each panel's rows contiguous.</summary>
    static void Pack(GemmProblem p, int n0, int end, int width, int k0, int k1, ref float b, ref float block)
    {
        int panelFloats = (k1 - k0) * width;
        if (p.BCol == 1)
            for (int k = k0; k < k1; k++)
                for (int n = n0, to = (k - k0) * width; n < end; n += width, to += panelFloats)
                    for (int v = 0; v < width; v += W)
                        V.Store(Load(ref b, p.BOffset + k * p.BRow + n + v), ref block, to + v);
        else
            // Columns along k: each column is read in order and written down its panel, a lane a row.
            for (int n = n0, panel = 0; n < end; n += width, panel += panelFloats)
                for (int lane = 0; lane < width; lane++)
                {
                    int from = p.BOffset + (n + lane) * p.BCol + k0 * p.BRow;
                    for (int k = k0, to = panel + lane; k < k1; k++, from += p.BRow, to += width)
                        At(ref block, to) = At(ref b, from);
                }
    }

    /// <summary>
    /// Rows m..m+3, columns n..n+2W of C: Σ over k in [k0, k1) with B's rows from the packed panel, added to what C
    /// holds when <paramref name="add"/>.
    /// </summary>
    static void BroadcastTile(GemmProblem p, int m, int n, int k0, int k1, bool add, ref float a, ref float panel, ref float c)
    {
        int a0 = p.AOffset + m * p.ARow, a1 = a0 + p.ARow, a2 = a1 + p.ARow, a3 = a2 + p.ARow;
        int r = m * p.N + n;
        V c00 = default, c01 = default, c10 = default, c11 = default;
        V c20 = default, c21 = default, c30 = default, c31 = default;
        if (add)
        {
            c00 = Load(ref c, r); c01 = Load(ref c, r + W); c10 = Load(ref c, r + p.N); c11 = Load(ref c, r + p.N + W);
            c20 = Load(ref c, r + 2 * p.N); c21 = Load(ref c, r + 2 * p.N + W); c30 = Load(ref c, r + 3 * p.N); c31 = Load(ref c, r + 3 * p.N + W);
        }
        for (int k = k0, bk = 0; k < k1; k++, bk += 2 * W)
        {
            int ak = k * p.ACol;
            var y0 = Load(ref panel, bk); var y1 = Load(ref panel, bk + W);
            var x = V.Splat(At(ref a, a0 + ak)); c00 = Fma(x, y0, c00); c01 = Fma(x, y1, c01);
            x = V.Splat(At(ref a, a1 + ak)); c10 = Fma(x, y0, c10); c11 = Fma(x, y1, c11);
            x = V.Splat(At(ref a, a2 + ak)); c20 = Fma(x, y0, c20); c21 = Fma(x, y1, c21);
            x = V.Splat(At(ref a, a3 + ak)); c30 = Fma(x, y0, c30); c31 = Fma(x, y1, c31);
        }
        V.Store(c00, ref c, r); V.Store(c01, ref c, r + W); r += p.N;
        V.Store(c10, ref c, r); V.Store(c11, ref c, r + W); r += p.N;
        V.Store(c20, ref c, r); V.Store(c21, ref c, r + W); r += p.N;
        V.Store(c30, ref c, r); V.Store(c31, ref c, r + W);
    }

    /// <summary>Outputs [n0, n1) of row m over k in [k0, k1): a vector at a time, then one at a time (the edges of <see cref="BroadcastRows"/>).</summary>
    static void BroadcastRow(GemmProblem p, int m, int n0, int n1, int k0, int k1, bool add, ref float a, ref float b, ref float c)
    {
        int am = p.AOffset + m * p.ARow, n = n0;
        for (; n + W <= n1; n += W)
        {
            V acc = add ? Load(ref c, m * p.N + n) : default;
            for (int k = k0; k < k1; k++)
                acc = Fma(V.Splat(At(ref a, am + k * p.ACol)), Load(ref b, p.BOffset + k * p.BRow + n), acc);
            V.Store(acc, ref c, m * p.N + n);
        }
        for (; n < n1; n++)
        {
            float sum = add ? At(ref c, m * p.N + n) : 0f;
            for (int k = k0; k < k1; k++)
                sum += At(ref a, am + k * p.ACol) * At(ref b, p.BOffset + k * p.BRow + n);
            At(ref c, m * p.N + n) = sum;
        }
    }
}
