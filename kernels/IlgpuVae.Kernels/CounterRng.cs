using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// A counter-based random generator: every number is a hash of (key, index), so each element is drawn
/// independently of launch shape, thread count and accelerator — the same seed gives the same ε on the
/// CPU accelerator and on a GPU. The hash is SplitMix64's finalizer applied twice, which passes the usual
/// statistical batteries for this use (one draw per counter, no stream to carry between launches).
/// Keys combine the run's seed, a stream id (ε, prior samples, binarization, initialization) and the step.
/// </summary>
public static class CounterRng
{
    /// <summary>SplitMix64's output function.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>A key for one (seed, stream, step) triple; each of the three changes every draw.</summary>
    public static ulong Key(ulong seed, ulong stream, ulong step) => Mix(Mix(Mix(seed) ^ stream) ^ step);

    /// <summary>A uniform in the open interval (0, 1) from the top 24 bits of the hash (<see cref="UnitInterval"/>).</summary>
    public static float Uniform(ulong key, long counter) => UnitInterval(Mix(key ^ Mix((ulong)counter)) >> 40);

    /// <summary>The largest float below 1, 1 − 2⁻²⁴.</summary>
    public const float BelowOne = 0.99999994f;

    /// <summary>
    /// 24 random bits (0 … 2²⁴ − 1) as a float in the open interval (0, 1): (bits + ½)·2⁻²⁴, at least 2⁻²⁵. In float,
    /// bits + ½ is exact below 2²³ only; above it the half rounds to even, so 2²⁴ − 1 + ½ would round to 2²⁴ and the
    /// draw to exactly 1. The clamp maps that one pattern to <see cref="BelowOne"/> and leaves every other draw as it
    /// was. (Above 2²³ an even pattern maps half a step below its centre and an odd one half a step above, so the
    /// draws are not centred one by one but their mean is.) <c>VectorNormals</c> maps vectors of bits the same way,
    /// bit for bit.
    /// </summary>
    public static float UnitInterval(ulong bits) => XMath.Min((bits + 0.5f) * (1f / 16777216f), BelowOne);

    /// <summary>A standard normal by Box–Muller from two uniforms; u₁ &gt; 0 so the log is finite.</summary>
    public static float Normal(ulong key, long counter)
    {
        float u1 = Uniform(key, 2 * counter);
        float u2 = Uniform(key, 2 * counter + 1);
        return XMath.Sqrt(-2f * DeviceMath.Log(u1)) * (float)DeviceMath.CosTwoPi(u2);
    }

    /// <summary>out[i] = N(0, 1) draw number i of <paramref name="key"/>, for the s.Length items; grid-stride.</summary>
    public static void FillNormalGpu(Index1D thread, Partition s, ulong key, ArrayView<float> output)
    {
        foreach (int i in s.Of(thread))
            output[i] = Normal(key, i);
    }

    /// <summary>CPU: <see cref="FillNormalGpu"/> over each of the thread's runs as vector code (<see cref="NoiseRows"/>).</summary>
    public static void FillNormalCpu(Index1D thread, Partition s, ulong key, ArrayView<float> output)
    {
        foreach (var run in s.RunsOf(thread))
            NoiseRows.FillNormal(key, run.From, run.To, output);
    }

    /// <summary>out[i] = U(low, high) draw number i of <paramref name="key"/>, for the s.Length items; grid-stride.</summary>
    public static void FillUniform(Index1D thread, Partition s, ulong key, float low, float high, ArrayView<float> output)
    {
        foreach (int i in s.Of(thread))
            output[i] = low + (high - low) * Uniform(key, i);
    }
}
