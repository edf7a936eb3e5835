using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Optimizers.AdamCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>), a vector of parameters at a time. Each lane evaluates the
/// scalar kernel's expression in the same order — no fused multiply-add, IEEE division and square root — so
/// both give the same bits. The host has checked the views' sizes: nothing is checked here.
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
        var (lr, b1, b2, c1, c2, eps, decay) = (s.LearningRate, s.Beta1, s.Beta2, s.BiasCorrection1, s.BiasCorrection2, s.Epsilon, s.WeightDecay);
        var (oneMinusB1, oneMinusB2, shrink) = (1f - b1, 1f - b2, 1f - lr * decay);
        bool decoupled = s.Decoupled != 0;
        for (; i + w <= to; i += w)
        {
            var p = Vector.LoadUnsafe(ref theta, (nuint)i);
            var g = Vector.LoadUnsafe(ref grad, (nuint)i);
            // A finite float minus itself is 0; infinities and NaN give NaN, which is not equal to itself.
            var finite = Vector.Equals(g - g, Vector<float>.Zero);
            if (!Vector.EqualsAll(finite.As<int, float>(), Vector<float>.AllBitsSet))
                for (int l = 0; l < w; l++)
                    if (!float.IsFinite(g[l])) bad++;
            if (decoupled) p *= shrink;
            else g += decay * p;
            var mi = b1 * Vector.LoadUnsafe(ref first, (nuint)i) + oneMinusB1 * g;
            var vi = b2 * Vector.LoadUnsafe(ref second, (nuint)i) + oneMinusB2 * g * g;
            mi.StoreUnsafe(ref first, (nuint)i);
            vi.StoreUnsafe(ref second, (nuint)i);
            (p - lr * (mi / c1) / (Vector.SquareRoot(vi / c2) + new Vector<float>(eps))).StoreUnsafe(ref theta, (nuint)i);
        }
        for (; i < to; i++)
        {
            float p = Unsafe.Add(ref theta, i), g = Unsafe.Add(ref grad, i);
            if (!float.IsFinite(g)) bad++;
            if (decoupled) p *= shrink;
            else g += decay * p;
            float mi = b1 * Unsafe.Add(ref first, i) + oneMinusB1 * g;
            float vi = b2 * Unsafe.Add(ref second, i) + oneMinusB2 * g * g;
            Unsafe.Add(ref first, i) = mi;
            Unsafe.Add(ref second, i) = vi;
            Unsafe.Add(ref theta, i) = p - lr * (mi / c1) / (MathF.Sqrt(vi / c2) + eps);
        }
        if (bad > 0) Interlocked.Add(ref faults[0], bad);
    }
}
