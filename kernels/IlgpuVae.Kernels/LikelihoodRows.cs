using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Likelihoods.RowsCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>), the per-element terms of <see cref="Likelihoods"/> a vector
/// at a time — the same expressions, e^−|l| and log1p from <see cref="VectorMath"/> — each vector's terms widened
/// and summed in double.
/// The host has checked the views' sizes: nothing is checked here.
/// </summary>
static class LikelihoodRows
{
    /// <summary>Rows [b0, b1): −log p(x|z) of each (the per-element sums <see cref="Likelihoods.Finish"/> turns into the row's term) and the gradient.</summary>
    [External("ilgpuvae_likelihood_rows")]
    public static void Rows(LikelihoodProblem p, int b0, int b1,
        ArrayView<float> output, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dOutput)
    {
        int w = Vector<float>.Count;
        bool grad = p.GradScale != 0f;
        var scale = new Vector<float>(p.GradScale);
        var precision = new Vector<float>(MathF.Exp(-p.LogVar) * p.GradScale);
        ref float o0 = ref output[0], x0 = ref x[0];
        ref float d0 = ref grad ? ref dOutput[0] : ref Unsafe.NullRef<float>();
        for (int b = b0; b < b1; b++)
        {
            int i = b * p.Dim, end = i + p.Dim, shift = p.XShift(b);
            var sum = Vector<double>.Zero;
            for (; i + w <= end; i += w)
            {
                var o = Vector.LoadUnsafe(ref o0, (nuint)i);
                var xi = Vector.LoadUnsafe(ref x0, (nuint)(i + shift));
                Vector<float> term;
                if (p.Bernoulli != 0)
                {
                    // As the scalar kernel: e = e^(−|l|) gives softplus(l) = max(l, 0) + log1p(e) and σ(l).
                    var e = VectorMath.ExpNonPositive(-Vector.Abs(o));
                    var one = Vector<float>.One;
                    if (grad)
                    {
                        var numerator = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(o, Vector<float>.Zero), one, e);
                        ((numerator / (one + e) - xi) * scale).StoreUnsafe(ref d0, (nuint)i);
                    }
                    term = Vector.Max(o, Vector<float>.Zero) + VectorMath.Log1pUnit(e) - xi * o;
                }
                else
                {
                    var r = o - xi;
                    if (grad) (r * precision).StoreUnsafe(ref d0, (nuint)i);
                    term = r * r;
                }
                Vector.Widen(term, out var low, out var high);
                sum += low + high;
            }
            double nll = Vector.Sum(sum);
            for (; i < end; i++)
                nll += Likelihoods.Element(p, MathF.Exp(-p.LogVar), i, i + shift, output, x, dOutput);
            nllRows[b] = Likelihoods.Finish(p, nll);
        }
    }
}
