using System.Numerics;
using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The CPU vector code's exp and log1p (<see cref="VectorMath"/>) against System.Math in double over the domains
/// the kernels give them: e^x within 2 ulp for x in [−87, 0], log(1 + e) within 3e-7 relative for e in [0, 1],
/// and every lane of a vector computed alike; and the vector normal draws with the scalar draws' bits.
/// </summary>
public sealed class VectorMathTests
{
    static double Ulps(float got, double want) =>
        Math.Abs(got - want) / (MathF.BitIncrement(MathF.Abs((float)want)) - MathF.Abs((float)want));

    [Fact]
    public void ExpOfNonPositiveIsWithinTwoUlps()
    {
        var random = new Random(3);
        int w = Vector<float>.Count;
        var xs = new float[w];
        for (int i = 0; i < 50_000; i++)
        {
            for (int j = 0; j < w; j++) xs[j] = -(float)(random.NextDouble() * 87) * (j % 2 == 0 ? 1f : (float)random.NextDouble() * 1e-3f);
            var got = VectorMath.ExpNonPositive(new Vector<float>(xs));
            for (int j = 0; j < w; j++) Assert.True(Ulps(got[j], Math.Exp(xs[j])) <= 2, $"exp({xs[j]:R}) = {got[j]:R}");
        }
        Assert.Equal(1f, VectorMath.ExpNonPositive(Vector<float>.Zero)[0]);
        Assert.InRange(VectorMath.ExpNonPositive(new Vector<float>(-1000f))[0], 0f, 2e-38f);
    }

    [Fact]
    public void Log1pOfUnitIntervalIsWithinThreeTenMillionths()
    {
        var random = new Random(4);
        int w = Vector<float>.Count;
        var es = new float[w];
        for (int i = 0; i < 50_000; i++)
        {
            for (int j = 0; j < w; j++) es[j] = (float)Math.Pow(random.NextDouble(), 1 + 20 * (j % 3));
            var got = VectorMath.Log1pUnit(new Vector<float>(es));
            for (int j = 0; j < w; j++)
            {
                double e = es[j], want = e < 1e-4 ? e * (1 - e * (0.5 - e / 3)) : Math.Log(1 + e);  // 1 + e loses tiny e
                Assert.True(Math.Abs(got[j] - want) <= 3e-7 * want, $"log1p({es[j]:R}) = {got[j]:R}, want {want:R}");
            }
        }
        Assert.Equal(0f, VectorMath.Log1pUnit(Vector<float>.Zero)[0]);
        Assert.Equal(Math.Log(2), VectorMath.Log1pUnit(Vector<float>.One)[0], 6);
    }

    [Fact]
    public void VectorNormalsHaveTheScalarDrawsBits()
    {
        foreach (var (key, first, count) in new[] { (99UL, 0L, 1000), (CounterRng.Key(1, 2, 3), 123_456_789_013L, 4099), (7UL, 5L, 3) })
        {
            var got = new float[count];
            VectorNormals.Fill(key, first, got);
            for (int i = 0; i < count; i++)
                Assert.True(BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(CounterRng.Normal(key, first + i)),
                    $"draw {first + i} of key {key}: {got[i]:R} vs {CounterRng.Normal(key, first + i):R}");
        }
    }
}
