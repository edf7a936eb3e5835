using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The kernels' own exp, log, tanh and Box–Muller cosine — the code every backend compiles, GPUs included
/// (the PTX test checks that no approximate instruction replaces them) — against System.Math in double: within
/// 2 ulp for float exp and log, 1 ulp for tanh, 2 ulp for double exp and log, over their ranges and at the edges.
/// </summary>
public sealed class DeviceMathTests
{
    static double Ulps(float got, double want)
    {
        float w = (float)want;
        if (float.IsInfinity(w) || w == 0) return got == w ? 0 : double.PositiveInfinity;
        return Math.Abs(got - want) / (MathF.BitIncrement(MathF.Abs(w)) - MathF.Abs(w));
    }

    static double Ulps(double got, double want)
    {
        if (double.IsInfinity(want) || want == 0) return got == want ? 0 : double.PositiveInfinity;
        return Math.Abs(got - want) / (Math.BitIncrement(Math.Abs(want)) - Math.Abs(want));
    }

    [Fact]
    public void FloatFunctionsAreWithinTwoUlps()
    {
        var random = new Random(1);
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * 87);
            Assert.True(Ulps(DeviceMath.Exp(x), Math.Exp(x)) <= 2, $"exp({x:R})");
            float y = (float)Math.Exp((random.NextDouble() * 2 - 1) * 85);
            Assert.True(Ulps(DeviceMath.Log(y), Math.Log(y)) <= 2, $"log({y:R})");
            float t = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-6, 2)));
            Assert.True(Ulps(DeviceMath.Tanh(t), Math.Tanh(t)) <= 1, $"tanh({t:R})");
        }
    }

    [Fact]
    public void DoubleFunctionsAreWithinTwoUlps()
    {
        var random = new Random(2);
        for (int i = 0; i < 200_000; i++)
        {
            double x = (random.NextDouble() * 2 - 1) * 700;
            Assert.True(Ulps(DeviceMath.Exp(x), Math.Exp(x)) <= 2, $"exp({x:R})");
            double y = Math.Exp((random.NextDouble() * 2 - 1) * 700);
            Assert.True(Ulps(DeviceMath.Log(y), Math.Log(y)) <= 2, $"log({y:R})");
            double u = random.NextDouble();
            Assert.True(Math.Abs(DeviceMath.CosTwoPi(u) - Math.Cos(2 * Math.PI * u)) < 2e-15, $"cos(2π·{u:R})");
        }
    }

    [Fact]
    public void EdgesBehaveAsSystemMath()
    {
        Assert.Equal(0f, DeviceMath.Exp(-200f));
        Assert.Equal(float.PositiveInfinity, DeviceMath.Exp(100f));
        Assert.True(float.IsNaN(DeviceMath.Exp(float.NaN)));
        Assert.Equal(float.NegativeInfinity, DeviceMath.Log(0f));
        Assert.True(float.IsNaN(DeviceMath.Log(-1f)));
        Assert.Equal(MathF.Log(1e-40f), DeviceMath.Log(1e-40f)); // a subnormal
        Assert.Equal(Math.Exp(-745.1), DeviceMath.Exp(-745.1));  // the smallest subnormal
        Assert.Equal(double.PositiveInfinity, DeviceMath.Exp(710.0));
        Assert.Equal(Math.Log(5e-320), DeviceMath.Log(5e-320), 12);
        Assert.Equal(1f, DeviceMath.Tanh(30f));
        Assert.Equal(-1f, DeviceMath.Tanh(-30f));
        Assert.Equal(0f, DeviceMath.Exp(float.NegativeInfinity));
    }

    /// <summary>On the accelerators too: the same functions inside a kernel give the same bits as on the host.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void KernelsComputeTheSameBitsAsTheHost(string device)
    {
        var x = Enumerable.Range(0, 257).Select(i => (i - 128) * 0.61f).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var output = d.Floats(3 * x.Length);
        var kernel = d.Device.Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(Evaluate);
        kernel(x.Length, d.Upload(x), output);
        var got = DeviceArrays.Download(output);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(DeviceMath.Exp(x[i]), got[3 * i]);
            Assert.Equal(DeviceMath.Log(Math.Abs(x[i]) + 1e-3f), got[3 * i + 1]);
            Assert.Equal(DeviceMath.Tanh(x[i] / 10), got[3 * i + 2]);
        }
    }

    static void Evaluate(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        y[3 * i] = DeviceMath.Exp(x[i]);
        y[3 * i + 1] = DeviceMath.Log((x[i] < 0 ? -x[i] : x[i]) + 1e-3f);
        y[3 * i + 2] = DeviceMath.Tanh(x[i] / 10);
    }

    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;
}
