using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The shape of one matrix product C[M, N] = epilogue(Σₖ A(m, k)·B(k, n)). A and B are strided views into
/// flat buffers (element (i, j) at Offset + i·Row + j·Col), so one kernel serves x·Wᵀ, dY·W and dYᵀ·x
/// without transposing anything. C is dense row-major [M, N]. Two kernels compute it: <see cref="TiledGemm"/>
/// on GPUs and <see cref="SimdGemm"/> on the CPU accelerator.
/// </summary>
public struct GemmProblem
{
    public int M, N, K;
    public int AOffset, ARow, ACol;
    public int BOffset, BRow, BCol;
    /// <summary>The activation the epilogue applies (forward) or differentiates (backward).</summary>
    public int Activation;
    /// <summary>The CPU kernel's launch size: rows of C are split into this many bands (<see cref="SimdGemm.Band"/>).</summary>
    public int Threads;

    internal static int DivUp(int a, int b) => (a + b - 1) / b;
}

/// <summary>What happens to an accumulated dot product before it is stored in C[m, n].</summary>
public interface IGemmEpilogue
{
    float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> aux);

    /// <summary>Whether <see cref="Apply"/> returns acc unchanged for <paramref name="p"/>, so a pass over C can be skipped.</summary>
    bool IsIdentity(GemmProblem p);
}
