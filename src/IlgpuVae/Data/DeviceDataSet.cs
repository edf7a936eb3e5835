using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;

namespace IlgpuVae.Data;

/// <summary>
/// A data set uploaded to the device once ([Count, Dim] floats in [0, 1]) with an order list that says which
/// row each batch position takes: shuffled each epoch for training, identity for evaluation.
/// </summary>
internal sealed class DeviceDataSet : IDisposable
{
    readonly KernelSet kernels;
    readonly MemoryBuffer1D<float, Stride1D.Dense> pixels;
    readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    readonly int[] hostOrder;

    public int Count { get; }
    public int Dim { get; }

    public DeviceDataSet(ComputeDevice device, float[] data, int count, int dim)
    {
        if (count <= 0 || dim <= 0 || data.Length != (long)count * dim)
            throw new ArgumentException($"The data holds {data.Length} values; {count} rows of {dim} need {(long)count * dim}.");
        Count = count;
        Dim = dim;
        kernels = device.Kernels;
        var memory = new DeviceMemory(device, $"a data set of {count} images of {dim} values");
        pixels = memory.Upload(data);
        hostOrder = Enumerable.Range(0, count).ToArray();
        order = memory.Upload(hostOrder);
    }

    public ArrayView<float> Pixels => pixels.View;
    public ArrayView<int> Order => order.View;

    /// <summary>A shuffle of the order keyed by (seed, epoch) (<see cref="Permutation"/>), uploaded in one copy.</summary>
    public void Shuffle(ulong seed, long epoch)
    {
        ulong key = Kernels.CounterRng.Key(seed, RandomStreams.Shuffle, (ulong)epoch);
        Permutation.Shuffle(hostOrder, i => (int)(Kernels.CounterRng.Mix(key ^ (ulong)i) % (ulong)(i + 1)));
        order.View.CopyFromCPU(hostOrder);
    }

    /// <summary>
    /// Rows [start, start + rows / repeat) of the order into <paramref name="batch"/>, each <paramref name="repeat"/>
    /// times in a row, binarized with <paramref name="key"/> if asked.
    /// </summary>
    public void Gather(int start, int rows, bool binarize, ulong key, ArrayView<float> batch, int repeat = 1) =>
        kernels.Gather(new Kernels.GatherProblem
        {
            Rows = rows, Dim = Dim, Start = start, Repeat = repeat, Binarize = binarize ? 1 : 0, Key = key,
        }, Pixels, Order, batch);

    public void Dispose()
    {
        pixels.Dispose();
        order.Dispose();
    }
}
