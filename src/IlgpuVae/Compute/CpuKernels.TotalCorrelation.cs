using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>The total correlation's vector rows and columns on the CPU accelerator: a band of rows or columns per hardware thread.</summary>
internal sealed partial class CpuKernels
{
    private protected override void LaunchTotalCorrelationRows(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        p.Threads = BandThreads(p.B);
        tcRows.Launch(p.Threads, p, z, heads, lse, rowTerms, dz);
    }

    readonly Kernel<Action<Index1D, TcProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<float>>> tcRows =
        new(load, TotalCorrelation.RowsCpu);

    private protected override void LaunchTotalCorrelationColumns(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads)
    {
        p.Threads = BandThreads(p.B);
        tcColumns.Launch(p.Threads, p, z, heads, lse, dHeads);
    }

    readonly Kernel<Action<Index1D, TcProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>> tcColumns =
        new(load, TotalCorrelation.ColumnsCpu);
}
