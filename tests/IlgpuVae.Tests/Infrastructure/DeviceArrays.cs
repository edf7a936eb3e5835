using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>Moving test data to and from a device: buffers are disposed with the scope.</summary>
internal sealed class DeviceArrays(ComputeDevice device) : IDisposable
{
    readonly List<IDisposable> owned = [];

    public ComputeDevice Device => device;

    public ArrayView<float> Upload(float[] values) => Keep(device.Accelerator.Allocate1D(values)).View;
    public ArrayView<int> Upload(int[] values) => Keep(device.Accelerator.Allocate1D(values)).View;
    public ArrayView<double> Upload(double[] values) => Keep(device.Accelerator.Allocate1D(values)).View;
    public ArrayView<float> Floats(long length) => Zeroed(Keep(device.Accelerator.Allocate1D<float>(Math.Max(1, length)))).View;
    public ArrayView<double> Doubles(long length) => Zeroed(Keep(device.Accelerator.Allocate1D<double>(Math.Max(1, length)))).View;

    public static float[] Download(ArrayView<float> view, long length = -1)
    {
        var host = new float[length < 0 ? view.Length : length];
        view.SubView(0, host.Length).CopyToCPU(host);
        return host;
    }

    public static int[] Download(ArrayView<int> view, long length = -1)
    {
        var host = new int[length < 0 ? view.Length : length];
        view.SubView(0, host.Length).CopyToCPU(host);
        return host;
    }

    public static double[] Download(ArrayView<double> view, long length = -1)
    {
        var host = new double[length < 0 ? view.Length : length];
        view.SubView(0, host.Length).CopyToCPU(host);
        return host;
    }

    T Keep<T>(T buffer) where T : IDisposable
    {
        owned.Add(buffer);
        return buffer;
    }

    static MemoryBuffer1D<T, Stride1D.Dense> Zeroed<T>(MemoryBuffer1D<T, Stride1D.Dense> b) where T : unmanaged
    {
        b.MemSetToZero();
        return b;
    }

    public void Dispose()
    {
        foreach (var b in owned) b.Dispose();
    }
}

internal static class ViewExtensions
{
    /// <summary>Copies host doubles into the start of a device view.</summary>
    public static void Fill(this ArrayView<double> view, double[] values) => view.SubView(0, values.Length).CopyFromCPU(values);
}

/// <summary>Seeded random test inputs.</summary>
internal static class TestData
{
    public static float[] Uniform(Random random, int n, double low = -1, double high = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)(low + (high - low) * random.NextDouble())).ToArray();

    public static float[] Normal(Random random, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)(scale * Gaussian(random))).ToArray();

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static double[] ToDouble(float[] v) => Array.ConvertAll(v, x => (double)x);
}
