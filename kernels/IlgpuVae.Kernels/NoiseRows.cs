using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's bodies of the kernels that draw normals per element, <see cref="CounterRng.FillNormalCpu"/>
/// and <see cref="Reparameterize.ForwardCpu"/>: plain .NET code behind ILGPU's <c>[External]</c> (see
/// <see cref="SimdGemm"/>) that draws a run's consecutive counters a vector at a time (<see cref="VectorNormals"/>,
/// the scalar draws' bits) and then computes each element as the scalar kernels do. In ILGPU's scalar IR a draw cost
/// about 50 ns. The host has checked the views' sizes.
/// </summary>
static class NoiseRows
{
    /// <summary>output[i] = <see cref="CounterRng.Normal"/>(key, i) for i in [from, to).</summary>
    [External("ilgpuvae_fill_normal_rows")]
    public static void FillNormal(ulong key, int from, int to, ArrayView<float> output) =>
        VectorNormals.Fill(key, from, MemoryMarshal.CreateSpan(ref output[from], to - from));

    /// <summary>Elements [from, to) of <see cref="Reparameterize.ForwardGpu"/>.</summary>
    [External("ilgpuvae_reparameterize_rows")]
    public static void Reparameterize(ReparameterizeProblem p, int from, int to,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klTerms)
    {
        if (p.DrawNoise != 0) VectorNormals.Fill(p.Key, p.CounterOffset + from, MemoryMarshal.CreateSpan(ref eps[from], to - from));
        for (int i = from; i < to; i++)
            Kernels.Reparameterize.ForwardElement(i, p, eps[i], heads, z, klTerms);
    }
}
