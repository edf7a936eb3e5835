using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="InferenceGaps.AdamCpu"/>: plain .NET code behind ILGPU's <c>[External]</c>
/// (see <see cref="SimdGemm"/>), a vector of parameters at a time through the shared element update
/// (<see cref="Optimizers.Adam"/>), so it gives <see cref="InferenceGaps.AdamGpu"/>'s bits. The host has checked the
/// views' sizes: nothing is checked here.
/// </summary>
static class InferenceGapRows
{
    [External("ilgpuvae_gap_adam_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam(GapAdamStep s, int from, int to,
        ArrayView<float> gradients, ArrayView<float> parameters, ArrayView<float> sums, ArrayView<float> m, ArrayView<float> v)
    {
        if (from >= to) return;
        ref float grad = ref gradients[0], theta = ref parameters[0], sum = ref sums[0], first = ref m[0], second = ref v[0];
        int w = Vector<float>.Count, i = from;
        for (; i + w <= to; i += w)
        {
            var g = Vector.LoadUnsafe(ref grad, (nuint)i);
            if (s.First == 0) g = Vector.LoadUnsafe(ref sum, (nuint)i) + g;
            if (s.Last == 0)
            {
                g.StoreUnsafe(ref sum, (nuint)i);
                continue;
            }
            var mi = Vector.LoadUnsafe(ref first, (nuint)i);
            var vi = Vector.LoadUnsafe(ref second, (nuint)i);
            var p = Optimizers.Adam<Vector<float>, VectorArithmetic>(s.Adam, Vector.LoadUnsafe(ref theta, (nuint)i), g * s.Scale, ref mi, ref vi);
            mi.StoreUnsafe(ref first, (nuint)i);
            vi.StoreUnsafe(ref second, (nuint)i);
            p.StoreUnsafe(ref theta, (nuint)i);
        }
        for (; i < to; i++)
        {
            float g = s.First != 0 ? Unsafe.Add(ref grad, i) : Unsafe.Add(ref sum, i) + Unsafe.Add(ref grad, i);
            if (s.Last == 0) Unsafe.Add(ref sum, i) = g;
            else Unsafe.Add(ref theta, i) = Optimizers.Adam<float, FloatArithmetic>(s.Adam, Unsafe.Add(ref theta, i), g * s.Scale,
                ref Unsafe.Add(ref first, i), ref Unsafe.Add(ref second, i));
        }
    }
}
