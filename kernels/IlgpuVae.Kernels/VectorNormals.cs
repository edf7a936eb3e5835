using System.Numerics;

namespace IlgpuVae.Kernels;

/// <summary>
/// <see cref="CounterRng.Normal"/> a vector of counters at a time, for the CPU accelerator's [External] code: the
/// same hashes, the same Box–Muller and the same operations in the same order as <see cref="DeviceMath.Log(float)"/>
/// and <see cref="DeviceMath.CosTwoPi"/>, none fused, so every draw has the scalar draw's bits (a test checks);
/// the importance sampling of <c>eval</c> draws 20 million per 1,000 images.
/// </summary>
static class VectorNormals
{
    /// <summary>normals[i] = <see cref="CounterRng.Normal"/>(key, first + i) for every i.</summary>
    public static void Fill(ulong key, long first, Span<float> normals)
    {
        int w = Vector<float>.Count, i = 0;
        var lanes = Lanes();
        for (; i + w <= normals.Length; i += w)
        {
            var counters = new Vector<ulong>((ulong)(first + i)) + lanes;
            Draw(key, counters, counters + new Vector<ulong>((ulong)(w / 2))).CopyTo(normals[i..]);
        }
        for (; i < normals.Length; i++) normals[i] = CounterRng.Normal(key, first + i);
    }

    /// <summary>0, 1, …: the lane offsets of a vector of ulong counters.</summary>
    static Vector<ulong> Lanes()
    {
        Span<ulong> offsets = stackalloc ulong[Vector<ulong>.Count];
        for (int j = 0; j < offsets.Length; j++) offsets[j] = (ulong)j;
        return new Vector<ulong>(offsets);
    }

    /// <summary>The normals of counters <paramref name="low"/> then <paramref name="high"/>, as one vector of floats.</summary>
    static Vector<float> Draw(ulong key, Vector<ulong> low, Vector<ulong> high)
    {
        var one = Vector<ulong>.One;
        var u1 = Uniform(key, low + low, high + high);
        var u2 = Uniform(key, low + low + one, high + high + one);
        Vector.Widen(u2, out var u2Low, out var u2High);
        var cosine = Vector.Narrow(CosTwoPi(u2Low), CosTwoPi(u2High));
        return Vector.SquareRoot(new Vector<float>(-2f) * Log(u1)) * cosine;
    }

    /// <summary><see cref="CounterRng.Uniform"/> of two vectors of counters.</summary>
    static Vector<float> Uniform(ulong key, Vector<ulong> low, Vector<ulong> high)
    {
        var keys = new Vector<ulong>(key);
        return UnitInterval(Vector.AsVectorInt32(Vector.Narrow(Mix(keys ^ Mix(low)) >> 40, Mix(keys ^ Mix(high)) >> 40)));
    }

    /// <summary><see cref="CounterRng.UnitInterval"/> lane by lane: 24-bit patterns to floats in (0, 1).</summary>
    internal static Vector<float> UnitInterval(Vector<int> bits) =>
        Vector.Min((Vector.ConvertToSingle(bits) + new Vector<float>(0.5f)) * new Vector<float>(1f / 16777216f), new Vector<float>(CounterRng.BelowOne));

    /// <summary><see cref="CounterRng.Mix"/>, lane by lane.</summary>
    static Vector<ulong> Mix(Vector<ulong> x)
    {
        x += new Vector<ulong>(0x9E3779B97F4A7C15UL);
        x = (x ^ (x >> 30)) * new Vector<ulong>(0xBF58476D1CE4E5B9UL);
        x = (x ^ (x >> 27)) * new Vector<ulong>(0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }

    /// <summary><see cref="DeviceMath.Log(float)"/> for x in (0, 1), where it is always normal (the uniforms).</summary>
    static Vector<float> Log(Vector<float> x)
    {
        var bits = Vector.AsVectorInt32(x);
        var e = (bits >>> 23) - new Vector<int>(127);
        var m = Vector.AsVectorSingle((bits & new Vector<int>(0x007FFFFF)) | new Vector<int>(0x3F800000));
        var above = Vector.GreaterThan(m, new Vector<float>(1.41421356f));
        m = Vector.ConditionalSelect(above, m * new Vector<float>(0.5f), m);
        e -= above;  // a true lane is −1
        var f = m - Vector<float>.One;
        var z = f * f;
        var y = new Vector<float>(7.0376836292e-2f) * f - new Vector<float>(1.1514610310e-1f);
        y = y * f + new Vector<float>(1.1676998740e-1f);
        y = y * f - new Vector<float>(1.2420140846e-1f);
        y = y * f + new Vector<float>(1.4249322787e-1f);
        y = y * f - new Vector<float>(1.6668057665e-1f);
        y = y * f + new Vector<float>(2.0000714765e-1f);
        y = y * f - new Vector<float>(2.4999993993e-1f);
        y = y * f + new Vector<float>(3.3333331174e-1f);
        y = y * f * z;
        var ef = Vector.ConvertToSingle(e);
        y += ef * new Vector<float>(DeviceMath.Ln2LoF);
        y -= new Vector<float>(0.5f) * z;
        return f + y + ef * new Vector<float>(DeviceMath.Ln2HiF);
    }

    /// <summary><see cref="DeviceMath.CosTwoPi"/>, lane by lane.</summary>
    static Vector<double> CosTwoPi(Vector<double> u)
    {
        var theta = new Vector<double>(2.0 * Math.PI) * (u - new Vector<double>(0.5));
        var a = Vector.Abs(theta);
        var folded = Vector.GreaterThan(a, new Vector<double>(0.5 * Math.PI));
        a = Vector.ConditionalSelect(folded, new Vector<double>(Math.PI) - a, a);
        var sign = Vector.ConditionalSelect(folded, Vector<double>.One, -Vector<double>.One);
        var a2 = a * a;
        var c = new Vector<double>(1.0 / 2432902008176640000.0);
        c = -c * a2 + new Vector<double>(1.0 / 6402373705728000.0);
        c = -c * a2 + new Vector<double>(1.0 / 20922789888000.0);
        c = -c * a2 + new Vector<double>(1.0 / 87178291200.0);
        c = -c * a2 + new Vector<double>(1.0 / 479001600.0);
        c = -c * a2 + new Vector<double>(1.0 / 3628800.0);
        c = -c * a2 + new Vector<double>(1.0 / 40320.0);
        c = -c * a2 + new Vector<double>(1.0 / 720.0);
        c = -c * a2 + new Vector<double>(1.0 / 24.0);
        c = -c * a2 + new Vector<double>(0.5);
        c = -c * a2 + Vector<double>.One;
        return sign * c;
    }
}
