using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels;

/// <summary>A count fixed when a generic method is compiled: the JIT folds every branch on it away.</summary>
interface ICount
{
    static abstract int Value { get; }
}

readonly struct One : ICount { public static int Value => 1; }
readonly struct Two : ICount { public static int Value => 2; }
readonly struct Four : ICount { public static int Value => 4; }
readonly struct Eight : ICount { public static int Value => 8; }

/// <summary>
/// The micro-kernels of the masked convs on the CPU accelerator (<see cref="MaskedConvRows"/>): a tile of
/// <typeparamref name="R"/> rows × <c>P</c> vectors of <typeparamref name="V"/> accumulators in registers, one value of
/// A broadcast per row and k, one vector of B per column vector and k. A is a padded image, channels last, read at
/// each row's own offset, so a tile's rows may be any pixels (or weight rows) and every tap's read is in bounds
/// without a check. R = 8 where AVX-512's 32 vector registers hold the 16 accumulators of P = 2, else 4; P = 1 for a
/// last panel one vector wide. Plain .NET code, never seen by ILGPU's IR; the caller has checked every size.
/// </summary>
static class MaskedConvTiles<V, R> where V : struct, ILanes<V> where R : struct, ICount
{
    static int W => V.Count;

    static V Load(ref float r, int i) => V.Load(ref r, i);

    static V Fma(V x, V y, V acc) => V.Fma(x, y, acc);

    static float At(ref float r, int i) => Unsafe.Add(ref r, i);

    /// <summary>
    /// c[i, 0 .. P·W) = Σ over the runs (offset, length) at runs[2j], runs[2j + 1] of Σ_{k &lt; length}
    /// a[offsets[i] + offset + k] · b[kb + k, ·] (rows of b ldb apart, kb counting on from run to run), for rows
    /// i &lt; R of c, ldc apart: a conv's taps, each run the live taps of one kernel row, contiguous in a padded image.
    /// </summary>
    public static void Conv<P>(ref float a, ref int offsets, ref int runs, int runCount, ref float b, int ldb, ref float c, int ldc)
        where P : struct, ICount
    {
        bool two = P.Value > 1, eight = R.Value > 4;
        int a0 = offsets, a1 = Unsafe.Add(ref offsets, 1), a2 = Unsafe.Add(ref offsets, 2), a3 = Unsafe.Add(ref offsets, 3);
        int a4 = eight ? Unsafe.Add(ref offsets, 4) : 0, a5 = eight ? Unsafe.Add(ref offsets, 5) : 0;
        int a6 = eight ? Unsafe.Add(ref offsets, 6) : 0, a7 = eight ? Unsafe.Add(ref offsets, 7) : 0;
        V c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        V c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        int kb = 0;
        for (int run = 0; run < runCount; run++)
        {
            ref float ar = ref Unsafe.Add(ref a, Unsafe.Add(ref runs, 2 * run));
            int length = Unsafe.Add(ref runs, 2 * run + 1);
            for (int k = 0; k < length; k++, kb += ldb)
            {
                var y0 = Load(ref b, kb);
                var y1 = two ? Load(ref b, kb + W) : default;
                var x = V.Splat(At(ref ar, a0 + k)); c00 = Fma(x, y0, c00); if (two) c01 = Fma(x, y1, c01);
                x = V.Splat(At(ref ar, a1 + k)); c10 = Fma(x, y0, c10); if (two) c11 = Fma(x, y1, c11);
                x = V.Splat(At(ref ar, a2 + k)); c20 = Fma(x, y0, c20); if (two) c21 = Fma(x, y1, c21);
                x = V.Splat(At(ref ar, a3 + k)); c30 = Fma(x, y0, c30); if (two) c31 = Fma(x, y1, c31);
                if (!eight) continue;
                x = V.Splat(At(ref ar, a4 + k)); c40 = Fma(x, y0, c40); if (two) c41 = Fma(x, y1, c41);
                x = V.Splat(At(ref ar, a5 + k)); c50 = Fma(x, y0, c50); if (two) c51 = Fma(x, y1, c51);
                x = V.Splat(At(ref ar, a6 + k)); c60 = Fma(x, y0, c60); if (two) c61 = Fma(x, y1, c61);
                x = V.Splat(At(ref ar, a7 + k)); c70 = Fma(x, y0, c70); if (two) c71 = Fma(x, y1, c71);
            }
        }
        Store<P>(ref c, ldc, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>
    /// acc[i, 0 .. P·W) += Σ over the pixels (py, px) of a height × width grid of a[offsets[i] + py·rowStep + px·pixelStep]
    /// · g[(py·width + px)·ldg, ·], for rows i &lt; R of acc, ldacc apart: a weight gradient's rows (tap, channel),
    /// each reading the padded image where its tap lands, against dPre's rows.
    /// </summary>
    public static void Weight<P>(ref float a, ref int offsets, int height, int width, int rowStep, int pixelStep, ref float g, int ldg,
        ref float acc, int ldacc) where P : struct, ICount
    {
        bool two = P.Value > 1, eight = R.Value > 4;
        int a0 = offsets, a1 = Unsafe.Add(ref offsets, 1), a2 = Unsafe.Add(ref offsets, 2), a3 = Unsafe.Add(ref offsets, 3);
        int a4 = eight ? Unsafe.Add(ref offsets, 4) : 0, a5 = eight ? Unsafe.Add(ref offsets, 5) : 0;
        int a6 = eight ? Unsafe.Add(ref offsets, 6) : 0, a7 = eight ? Unsafe.Add(ref offsets, 7) : 0;
        V c00 = Load(ref acc, 0), c01 = two ? Load(ref acc, W) : default;
        V c10 = Load(ref acc, ldacc), c11 = two ? Load(ref acc, ldacc + W) : default;
        V c20 = Load(ref acc, 2 * ldacc), c21 = two ? Load(ref acc, 2 * ldacc + W) : default;
        V c30 = Load(ref acc, 3 * ldacc), c31 = two ? Load(ref acc, 3 * ldacc + W) : default;
        V c40 = eight ? Load(ref acc, 4 * ldacc) : default, c41 = eight && two ? Load(ref acc, 4 * ldacc + W) : default;
        V c50 = eight ? Load(ref acc, 5 * ldacc) : default, c51 = eight && two ? Load(ref acc, 5 * ldacc + W) : default;
        V c60 = eight ? Load(ref acc, 6 * ldacc) : default, c61 = eight && two ? Load(ref acc, 6 * ldacc + W) : default;
        V c70 = eight ? Load(ref acc, 7 * ldacc) : default, c71 = eight && two ? Load(ref acc, 7 * ldacc + W) : default;
        for (int py = 0; py < height; py++)
        {
            int q = py * rowStep, gi = py * width * ldg;
            for (int px = 0; px < width; px++, q += pixelStep, gi += ldg)
            {
                var y0 = Load(ref g, gi);
                var y1 = two ? Load(ref g, gi + W) : default;
                var x = V.Splat(At(ref a, a0 + q)); c00 = Fma(x, y0, c00); if (two) c01 = Fma(x, y1, c01);
                x = V.Splat(At(ref a, a1 + q)); c10 = Fma(x, y0, c10); if (two) c11 = Fma(x, y1, c11);
                x = V.Splat(At(ref a, a2 + q)); c20 = Fma(x, y0, c20); if (two) c21 = Fma(x, y1, c21);
                x = V.Splat(At(ref a, a3 + q)); c30 = Fma(x, y0, c30); if (two) c31 = Fma(x, y1, c31);
                if (!eight) continue;
                x = V.Splat(At(ref a, a4 + q)); c40 = Fma(x, y0, c40); if (two) c41 = Fma(x, y1, c41);
                x = V.Splat(At(ref a, a5 + q)); c50 = Fma(x, y0, c50); if (two) c51 = Fma(x, y1, c51);
                x = V.Splat(At(ref a, a6 + q)); c60 = Fma(x, y0, c60); if (two) c61 = Fma(x, y1, c61);
                x = V.Splat(At(ref a, a7 + q)); c70 = Fma(x, y0, c70); if (two) c71 = Fma(x, y1, c71);
            }
        }
        Store<P>(ref acc, ldacc, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>The tile's R rows of P vectors into c, rows ldc apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<P>(ref float c, int ldc, V c00, V c01, V c10, V c11, V c20, V c21, V c30, V c31,
        V c40, V c41, V c50, V c51, V c60, V c61, V c70, V c71) where P : struct, ICount
    {
        bool two = P.Value > 1;
        V.Store(c00, ref c, 0); if (two) V.Store(c01, ref c, W);
        V.Store(c10, ref c, ldc); if (two) V.Store(c11, ref c, ldc + W);
        V.Store(c20, ref c, 2 * ldc); if (two) V.Store(c21, ref c, 2 * ldc + W);
        V.Store(c30, ref c, 3 * ldc); if (two) V.Store(c31, ref c, 3 * ldc + W);
        if (R.Value <= 4) return;
        V.Store(c40, ref c, 4 * ldc); if (two) V.Store(c41, ref c, 4 * ldc + W);
        V.Store(c50, ref c, 5 * ldc); if (two) V.Store(c51, ref c, 5 * ldc + W);
        V.Store(c60, ref c, 6 * ldc); if (two) V.Store(c61, ref c, 6 * ldc + W);
        V.Store(c70, ref c, 7 * ldc); if (two) V.Store(c71, ref c, 7 * ldc + W);
    }
}
