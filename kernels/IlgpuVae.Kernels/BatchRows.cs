using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Batches.GatherCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>) that copies each batch row's share as one block, or binarizes it
/// with the same draws as <see cref="Batches.GatherGpu"/>. The host has checked the views' sizes.
/// </summary>
static class BatchRows
{
    /// <summary>Batch elements [e0, e1) as <see cref="Batches.GatherGpu"/> writes them.</summary>
    [External("ilgpuvae_gather_rows")]
    public static void Gather(GatherProblem g, int e0, int e1, ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        for (int e = e0; e < e1;)
        {
            int r = e / g.Dim, i = e - r * g.Dim, length = Math.Min(e1 - e, g.Dim - i);
            long source = (long)order[g.Start + r / g.Repeat] * g.Dim + i;
            var from = MemoryMarshal.CreateReadOnlySpan(ref data[source], length);
            var to = MemoryMarshal.CreateSpan(ref batch[e], length);
            if (g.Binarize == 0) from.CopyTo(to);
            else
                for (int t = 0; t < length; t++)
                    to[t] = CounterRng.Uniform(g.Key, source + t) < from[t] ? 1f : 0f;
            e += length;
        }
    }
}
