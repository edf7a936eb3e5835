using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Divergences.MmdCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>). Each thread first copies both sets transposed, [k, n], so
/// that one vector holds one coordinate of <see cref="Vector{T}.Count"/> partners; a row then gets the
/// squared distances, kernel values and slopes of that many pairs at once, in float, and sums the kernel
/// values in double (MMD² is a small difference of such sums). The gradient Σⱼ s·(a − bⱼ) is summed per
/// coordinate from the same differences, never as a·Σs − Σ s·bⱼ, which would cancel.
/// </summary>
static class MmdVectorRows
{
    [ThreadStatic] static float[]? transposed;

    /// <summary>
    /// Rows thread, thread + threads, … of the launch's (<see cref="MmdProblem.LaunchRows"/>): each row's share of MMD²
    /// into rowTerms at its index in [z; p], and for an own code row p.GradScale·∂MMD²/∂zᵢ added into its dz row. The
    /// host has checked the views' sizes: nothing is checked here.
    /// </summary>
    [External("ilgpuvae_mmd_rows")]
    public static void Rows(MmdProblem p, int thread, int threads,
        ArrayView<float> z, ArrayView<float> prior, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        int k = p.Latent, w = Vector<float>.Count;
        int bPadded = (p.B + w - 1) / w * w, mPadded = (p.M + w - 1) / w * w;
        int size = k * (bPadded + mPadded + w);  // both sets transposed, then the gradient's k vectors
        if (transposed is null || transposed.Length < size) transposed = new float[size];
        var zt = transposed.AsSpan(0, k * bPadded);
        var pt = transposed.AsSpan(k * bPadded, k * mPadded);
        var gradient = MemoryMarshal.Cast<float, Vector<float>>(transposed.AsSpan(k * (bPadded + mPadded), k * w));
        Transpose(z, p.B, k, bPadded, zt);
        Transpose(prior, p.M, k, mPadded, pt);
        Span<float> row = stackalloc float[k];
        double within = Divergences.WithinSetDivisor(p.B, p.Unbiased), cross = (double)p.B * p.M;
        float gWithin = (float)(2.0 * p.GradScale / within), gCross = (float)(-2.0 * p.GradScale / cross);
        bool grad = p.GradScale != 0f;

        for (int v = thread; v < p.LaunchRows; v += threads)
        {
            // The launch's rows: the own code rows (dz row v holds code row OwnFirst + v), then the prior rows.
            int r = p.OwnFirst + v;
            if (v >= p.OwnRows)
            {
                int i = v - p.OwnRows;
                r = p.B + i;
                for (int t = 0; t < k; t++) row[t] = prior[i * k + t];
                double sum = Sum(p, row, pt, p.M, mPadded, p.Unbiased != 0 ? i : -1, 0f, default);
                rowTerms[r] = sum / Divergences.WithinSetDivisor(p.M, p.Unbiased);
                continue;
            }
            for (int t = 0; t < k; t++) row[t] = z[r * k + t];
            if (grad) gradient.Clear();
            double sumWithin = Sum(p, row, zt, p.B, bPadded, p.Unbiased != 0 ? r : -1, grad ? gWithin : 0f, gradient);
            double sumCross = Sum(p, row, pt, p.M, mPadded, -1, grad ? gCross : 0f, gradient);
            rowTerms[r] = sumWithin / within - 2.0 * sumCross / cross;
            if (grad)
                for (int t = 0; t < k; t++) dz[v * k + t] += Vector.Sum(gradient[t]);
        }
    }

    /// <summary>
    /// Σⱼ k(a, bⱼ) over the n partners of <paramref name="bt"/> [k, padded] (leaving out j = <paramref name="skip"/>),
    /// in double; with a non-zero <paramref name="scale"/> also gradient[t] += scale·s(a, bⱼ)·(a_t − bⱼ_t) lane-wise.
    /// </summary>
    static double Sum(MmdProblem p, ReadOnlySpan<float> a, ReadOnlySpan<float> bt, int n, int padded, int skip,
        float scale, Span<Vector<float>> gradient)
    {
        int k = a.Length, w = Vector<float>.Count;
        var lanes = LaneIndices();
        var sum = Vector<double>.Zero;
        ref float b0 = ref MemoryMarshal.GetReference(bt);
        for (int j = 0; j < n; j += w)
        {
            var d2 = Vector<float>.Zero;
            for (int t = 0; t < k; t++)
            {
                var d = new Vector<float>(a[t]) - Vector.LoadUnsafe(ref b0, (nuint)(t * padded + j));
                d2 += d * d;
            }
            var (kernel, slope) = KernelAndSlope(d2, p);
            var index = lanes + new Vector<int>(j);
            var keep = Vector.LessThan(index, new Vector<int>(n)) & ~Vector.Equals(index, new Vector<int>(skip));
            kernel = Vector.ConditionalSelect(keep, kernel, Vector<float>.Zero);
            Vector.Widen(kernel, out var low, out var high);
            sum += low + high;
            if (scale == 0f) continue;
            slope = Vector.ConditionalSelect(keep, slope * scale, Vector<float>.Zero);
            for (int t = 0; t < k; t++)
                gradient[t] += slope * (new Vector<float>(a[t]) - Vector.LoadUnsafe(ref b0, (nuint)(t * padded + j)));
        }
        return Vector.Sum(sum);
    }

    /// <summary>k and s with ∇ₐk = s·(a − b), lane-wise from ‖a − b‖² (<see cref="Divergences.KernelOfSquaredDistance"/> in float).</summary>
    static (Vector<float> Kernel, Vector<float> Slope) KernelAndSlope(Vector<float> d2, MmdProblem p)
    {
        if (p.Kernel == (int)MmdKernel.Rbf)
        {
            float h2 = p.KernelParameter * p.KernelParameter;
            var kernel = Vector.Exp(d2 * (-0.5f / h2));
            return (kernel, kernel * (-1f / h2));
        }
        var c = new Vector<float>(p.KernelParameter);
        var imq = c / (c + d2);
        return (imq, imq * imq * (-2f / p.KernelParameter));
    }

    /// <summary>values [n, k] into t [k, padded], the padding zero.</summary>
    static void Transpose(ArrayView<float> values, int n, int k, int padded, Span<float> t)
    {
        t.Clear();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) t[c * padded + i] = values[i * k + c];
    }

    static Vector<int> LaneIndices()
    {
        Span<int> lanes = stackalloc int[Vector<int>.Count];
        for (int l = 0; l < lanes.Length; l++) lanes[l] = l;
        return new Vector<int>(lanes);
    }
}
