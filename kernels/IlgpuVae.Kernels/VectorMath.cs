using System.Numerics;

namespace IlgpuVae.Kernels;

/// <summary>
/// Transcendentals a vector at a time for the CPU accelerator's [External] code, on the domains the kernels need.
/// .NET's own <see cref="Vector.Exp(Vector{float})"/> and <see cref="Vector.Log(Vector{float})"/> are accurate
/// over every float but widen to double inside: 2.3× slower than these (the likelihood over a 4,000×784 batch,
/// one core), which evaluate float polynomials with fused multiply-adds. Accuracy, held by the tests against
/// <see cref="Math"/>: <see cref="ExpNonPositive"/> within 2 ulp, <see cref="Log1pUnit"/> within 3e-7 relative.
/// </summary>
static class VectorMath
{
    /// <summary>Below this, eˣ would need a subnormal 2ⁿ: inputs are raised to it (e^−87.3 ≈ 1.2e−38, not 0).</summary>
    const float Lowest = -87.3f;

    static Vector<float> Fma(Vector<float> x, Vector<float> y, Vector<float> z) => Vector.FusedMultiplyAdd(x, y, z);

    /// <summary>
    /// eˣ for x ≤ 0 as <see cref="DeviceMath.Exp(float)"/> computes it (n = round(x/ln 2), two-part ln 2,
    /// Cephes' polynomial, × 2ⁿ), fused; x below −87.3 gives e^−87.3. NaN is not expected.
    /// </summary>
    public static Vector<float> ExpNonPositive(Vector<float> x)
    {
        x = Vector.Max(x, new Vector<float>(Lowest));
        var n = Vector.Round(x * new Vector<float>(DeviceMath.Log2EF));
        var r = Fma(n, new Vector<float>(-DeviceMath.Ln2HiF), x);
        r = Fma(n, new Vector<float>(-DeviceMath.Ln2LoF), r);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Fma(p, r, new Vector<float>(1.3981999507e-3f));
        p = Fma(p, r, new Vector<float>(8.3334519073e-3f));
        p = Fma(p, r, new Vector<float>(4.1665795894e-2f));
        p = Fma(p, r, new Vector<float>(1.6666665459e-1f));
        p = Fma(p, r, new Vector<float>(5.0000001201e-1f));
        var y = Fma(p, r * r, r) + Vector<float>.One;
        var twoToN = Vector.AsVectorSingle((Vector.ConvertToInt32(n) + new Vector<int>(127)) << 23);
        return y * twoToN;
    }

    /// <summary>
    /// log(1 + e) for e in [0, 1] (softplus's tail, e = e^−|l|): e·q(e), q a degree-8 least-squares fit of
    /// log(1 + e)/e on Chebyshev nodes, so tiny e keep their full relative precision.
    /// </summary>
    public static Vector<float> Log1pUnit(Vector<float> e)
    {
        var q = new Vector<float>(5.253457930e-03f);
        q = Fma(q, e, new Vector<float>(-2.958850749e-02f));
        q = Fma(q, e, new Vector<float>(7.836166769e-02f));
        q = Fma(q, e, new Vector<float>(-1.367477030e-01f));
        q = Fma(q, e, new Vector<float>(1.911143064e-01f));
        q = Fma(q, e, new Vector<float>(-2.484436929e-01f));
        q = Fma(q, e, new Vector<float>(3.331927061e-01f));
        q = Fma(q, e, new Vector<float>(-4.999950230e-01f));
        q = Fma(q, e, Vector<float>.One);
        return q * e;
    }
}
