using ILGPU;
using ILGPU.Runtime;

namespace IlgpuVae.Compute;

/// <summary>
/// Allocates zeroed device buffers for one purpose and turns the device's refusal into one message that names
/// the device, the size asked for and what to do (a <see cref="DeviceFaultException"/>).
/// </summary>
/// <param name="device">The accelerator the buffers live on.</param>
/// <param name="purpose">What the memory is for, e.g. "a 784-400-20-400-784 model for batches of 128".</param>
internal sealed class DeviceMemory(ComputeDevice device, string purpose)
{
    public MemoryBuffer1D<float, Stride1D.Dense> Floats(long length) => Allocate<float>(length);

    public MemoryBuffer1D<double, Stride1D.Dense> Doubles(long length) => Allocate<double>(length);

    public MemoryBuffer1D<int, Stride1D.Dense> Ints(long length) => Allocate<int>(length);

    /// <summary>A buffer holding a copy of <paramref name="values"/>.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] values) where T : unmanaged
    {
        var buffer = Allocate<T>(values.Length, zero: false);
        buffer.View.CopyFromCPU(values);
        return buffer;
    }

    MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, bool zero = true) where T : unmanaged
    {
        long bytes = Math.Max(1, length) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        try
        {
            var buffer = device.Accelerator.Allocate1D<T>(Math.Max(1, length));
            if (zero) buffer.MemSetToZero();
            return buffer;
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException or ArgumentOutOfRangeException or InsufficientMemoryException)
        {
            throw new DeviceFaultException(
                $"{device.Describe()} could not allocate {Size(bytes)} for {purpose} ({e.Message.TrimEnd('.')}). " +
                "Use a smaller RunConfig.BatchSize or model, or another RunConfig.Device.", e);
        }
    }

    /// <summary>"1.5 GB", "12 MB", "640 KB".</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MB",
        _ => $"{Math.Max(1, bytes / 1024)} KB",
    };
}
