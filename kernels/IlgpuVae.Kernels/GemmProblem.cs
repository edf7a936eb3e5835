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
    /// <summary>The CPU kernel's launch size: C is split into this many bands (<see cref="SimdGemm.Band"/>).</summary>
    public int Threads;
    /// <summary>The CPU kernel's bands are ranges of C's columns (1) rather than of its rows (0) (<see cref="SimdGemm.SplitsColumns"/>).</summary>
    public int ColumnBands;

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

/// <summary>
/// The epilogues of <see cref="Epilogue"/>, one element at a time: the GPU tiles apply them as they store, and
/// the CPU accelerator's vector rows (<see cref="SimdTiles.EpilogueRows"/>) fall back on them for the
/// activations they do not vectorize, so both backends compute the same numbers.
/// </summary>
public static class Epilogues
{
    /// <summary>Where C[m, n]'s epilogue reads aux: n (a bias), m·N + n, or −1 where it reads nothing.</summary>
    public static int AuxIndex(GemmProblem p, int m, int n) => p.Epilogue switch
    {
        (int)Epilogue.Store => -1,
        (int)Epilogue.BiasActivation => n,
        (int)Epilogue.TimesDerivative when p.Activation == (int)Activation.Identity => -1,
        _ => m * p.N + n,
    };

    /// <summary>The stored value for accumulated <paramref name="acc"/> and the aux value the epilogue reads (0 where none).</summary>
    public static float Apply(float acc, float aux, GemmProblem p)
    {
        switch (p.Epilogue)
        {
            case (int)Epilogue.BiasActivation:
            case (int)Epilogue.AddActivation: return Activations.Forward(acc + aux, p.Activation);
            case (int)Epilogue.TimesDerivative:
                return p.Activation == (int)Activation.Identity ? acc : acc * Activations.Derivative(aux, p.Activation);
            case (int)Epilogue.Accumulate: return acc + aux;
            case (int)Epilogue.Masked: return aux != 0f ? acc : 0f;
            default: return acc;
        }
    }

    /// <summary>C[m, n] for accumulated <paramref name="acc"/>, reading the problem's aux view where its epilogue does.</summary>
    public static float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> aux)
    {
        int i = AuxIndex(p, m, n);
        return Apply(acc, i < 0 ? 0f : aux[i], p);
    }

    /// <summary>Whether the epilogue stores acc unchanged, so the CPU's pass over C can be skipped.</summary>
    public static bool IsIdentity(GemmProblem p) =>
        p.Epilogue == (int)Epilogue.Store || p.Epilogue == (int)Epilogue.TimesDerivative && p.Activation == (int)Activation.Identity;
}
