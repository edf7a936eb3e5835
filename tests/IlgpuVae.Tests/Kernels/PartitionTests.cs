using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// Every grid-stride kernel walks its items through <see cref="Partition"/> (item by item, or run by run): whatever
/// the threads and run length, each item must be visited exactly once, in increasing order within a thread, and the
/// CPU accelerator's shares must be whole cache lines.
/// </summary>
public sealed class PartitionTests
{
    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 1, 16)]
    [InlineData(17, 4, 1)]      // a GPU's shape: one item at a time, round-robin
    [InlineData(1000, 3, 16)]
    [InlineData(1000, 2, 500)]  // the CPU accelerator's: one run per thread
    [InlineData(1001, 2, 512)]
    [InlineData(33, 8, 16)]     // more threads than runs
    public void VisitEveryItemExactlyOnce(int length, int threads, int chunk)
    {
        var s = new Partition { Length = length, Threads = threads, Chunk = chunk };
        var visits = new int[length];
        var runVisits = new int[length];
        for (int thread = 0; thread < threads; thread++)
        {
            int last = -1;
            foreach (int i in s.Of(thread))
            {
                Assert.True(i > last, $"thread {thread} visits item {i} after {last}");
                visits[i]++;
                last = i;
            }
            foreach (var run in s.RunsOf(thread))
            {
                Assert.Equal(0, run.From % chunk);
                Assert.InRange(run.To - run.From, 1, chunk);
                for (int i = run.From; i < run.To; i++) runVisits[i]++;
            }
        }
        Assert.All(visits, v => Assert.Equal(1, v));
        Assert.All(runVisits, v => Assert.Equal(1, v));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2560)]
    [InlineData(652_824)]
    public void CpuAcceleratorDealsOneRunOfWholeCacheLinesPerThread(int length)
    {
        var device = TestDevices.Get("cpu");
        var s = device.Kernels.Partition(length);
        Assert.InRange(s.Threads, 1, device.Accelerator.MaxNumThreads);
        Assert.Equal(0, s.Chunk % 16);
        Assert.True((long)s.Threads * s.Chunk >= length, "the runs cover every item in one round");
        Assert.True((long)(s.Threads - 1) * s.Chunk < length, "no thread is left without items");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(652_824)]
    public void GpuKernelsDealOneItemAtATimeWhateverTheAccelerator(int length)
    {
        var s = TestDevices.Get(TestDevices.PortableCpu).Kernels.Partition(length);
        Assert.Equal(1, s.Chunk);
        Assert.InRange(s.Threads, 1, length);
    }
}
