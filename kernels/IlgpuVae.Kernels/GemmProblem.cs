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
    /// <summary>What is done with each accumulated value before it is stored (<see cref="Kernels.Epilogue"/>).</summary>
    public int Epilogue;
    /// <summary>The CPU kernel's launch size: rows of C are split into this many bands (<see cref="SimdGemm.Band"/>).</summary>
    public int Threads;

    internal static int DivUp(int a, int b) => (a + b - 1) / b;
}

/// <summary>What a product does with each accumulated value acc of C[m, n] before storing it; aux is the problem's extra view.</summary>
public enum Epilogue
{
    /// <summary>C = acc.</summary>
    Store = 0,
    /// <summary>C = act(acc + aux[n]): a layer's bias and activation.</summary>
    BiasActivation = 1,
    /// <summary>C = acc · act'(aux[m, n]), the derivative taken from the activation's output (Identity: acc).</summary>
    TimesDerivative = 2,
    /// <summary>C = act(acc + aux[m, n]): another input's product (with the bias) added before the activation.</summary>
    AddActivation = 3,
    /// <summary>C = C + acc: aux is C itself, read before it is written.</summary>
    Accumulate = 4,
    /// <summary>C = acc where aux[m, n] ≠ 0, else 0: the gradient of a weight held at zero by a mask.</summary>
    Masked = 5,
}

/// <summary>What happens to an accumulated dot product before it is stored in C[m, n].</summary>
public interface IGemmEpilogue
{
    float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> aux);

    /// <summary>Whether <see cref="Apply"/> returns acc unchanged for <paramref name="p"/>, so a pass over C can be skipped.</summary>
    bool IsIdentity(GemmProblem p);
}
