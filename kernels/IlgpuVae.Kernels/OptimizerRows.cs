using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Optimizers.AdamCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>), a vector of parameters at a time, each through the scalar
/// kernel's own update (<see cref="Optimizers.Adam"/>) on vectors, so both give the same bits. The host has
/// checked the views' sizes: nothing is checked here.
/// </summary>
static class OptimizerRows
{
    [External("ilgpuvae_adam_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam(AdamStep s, int from, int to,
        ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<int> faults)
    {
        if (from >= to) return;
        ref float theta = ref parameters[0], grad = ref gradients[0], first = ref m[0], second = ref v[0];
        int w = Vector<float>.Count, i = from, bad = 0;
        for (; i + w <= to; i += w)
        {
            var g = Vector.LoadUnsafe(ref grad, (nuint)i);
            // A finite float minus itself is 0; infinities and NaN give NaN, which is not equal to itself.
            var finite = Vector.Equals(g - g, Vector<float>.Zero);
            if (!Vector.EqualsAll(finite.As<int, float>(), Vector<float>.AllBitsSet))
                for (int l = 0; l < w; l++)
                    if (!float.IsFinite(g[l])) bad++;
            var mi = Vector.LoadUnsafe(ref first, (nuint)i);
            var vi = Vector.LoadUnsafe(ref second, (nuint)i);
            var p = Optimizers.Adam<Vector<float>, VectorArithmetic>(s, Vector.LoadUnsafe(ref theta, (nuint)i), g, ref mi, ref vi);
            mi.StoreUnsafe(ref first, (nuint)i);
            vi.StoreUnsafe(ref second, (nuint)i);
            p.StoreUnsafe(ref theta, (nuint)i);
        }
        for (; i < to; i++)
        {
            float g = Unsafe.Add(ref grad, i);
            if (!float.IsFinite(g)) bad++;
            Unsafe.Add(ref theta, i) = Optimizers.Adam<float, FloatArithmetic>(s, Unsafe.Add(ref theta, i), g, ref Unsafe.Add(ref first, i), ref Unsafe.Add(ref second, i));
        }
        if (bad > 0) Interlocked.Add(ref faults[0], bad);
    }
}
