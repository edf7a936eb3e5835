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
    /// <summary>C's rows and columns, and the length of the sums.</summary>
    public int M, N, K;
    /// <summary>Where A(0, 0) is, and the steps between its rows and its columns.</summary>
    public int AOffset, ARow, ACol;
    /// <summary>Where B(0, 0) is, and the steps between its rows and its columns.</summary>
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
    /// <summary>C = C + acc: a second product onto a gradient the first wrote (no aux).</summary>
    Accumulate = 4,
    /// <summary>C = acc where aux[m, n] ≠ 0, else 0: the gradient of a weight held at zero by a mask.</summary>
    Masked = 5,
    /// <summary>C = (C + acc) · act'(aux[m, n]): a second product onto an input gradient, then the activation's derivative.</summary>
    AccumulateTimesDerivative = 6,
}

/// <summary>
/// The epilogues of <see cref="Epilogue"/>, one element at a time: the GPU tiles apply them as they store, and
/// the CPU accelerator's vector rows (<see cref="SimdRows.EpilogueRows"/>) fall back on them for the
/// activations they do not vectorize, so both backends compute the same numbers.
/// </summary>
public static class Epilogues
{
    /// <summary>Whether C's old value is added to the product before the rest of the epilogue.</summary>
    public static bool Accumulates(GemmProblem p) =>
        p.Epilogue == (int)Epilogue.Accumulate || p.Epilogue == (int)Epilogue.AccumulateTimesDerivative;

    /// <summary>Whether the epilogue is a derivative's factor act'(aux[m, n]).</summary>
    static bool TimesDerivative(GemmProblem p) =>
        p.Epilogue == (int)Epilogue.TimesDerivative || p.Epilogue == (int)Epilogue.AccumulateTimesDerivative;

    /// <summary>Where C[m, n]'s epilogue reads aux: n (a bias), m·N + n, or −1 where it reads nothing.</summary>
    public static int AuxIndex(GemmProblem p, int m, int n)
    {
        if (p.Epilogue == (int)Epilogue.Store || p.Epilogue == (int)Epilogue.Accumulate) return -1;
        if (p.Epilogue == (int)Epilogue.BiasActivation) return n;
        if (TimesDerivative(p) && p.Activation == (int)Activation.Identity) return -1;
        return m * p.N + n;
    }

    /// <summary>
    /// The stored value for <paramref name="value"/> — the accumulated product, plus C's old value where the
    /// epilogue <see cref="Accumulates"/> — and the aux value the epilogue reads (0 where none).
    /// </summary>
    public static float Apply(float value, float aux, GemmProblem p)
    {
        switch (p.Epilogue)
        {
            case (int)Epilogue.BiasActivation:
            case (int)Epilogue.AddActivation: return Activations.Forward(value + aux, p.Activation);
            case (int)Epilogue.TimesDerivative:
            case (int)Epilogue.AccumulateTimesDerivative:
                return p.Activation == (int)Activation.Identity ? value : value * Activations.Derivative(aux, p.Activation);
            case (int)Epilogue.Masked: return aux != 0f ? value : 0f;
            default: return value;
        }
    }

    /// <summary>C[m, n] for accumulated <paramref name="acc"/>, reading C and the problem's aux view where its epilogue does.</summary>
    public static float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> c, ArrayView<float> aux)
    {
        int i = AuxIndex(p, m, n);
        float value = Accumulates(p) ? acc + c[m * p.N + n] : acc;
        return Apply(value, i < 0 ? 0f : aux[i], p);
    }

    /// <summary>Whether, after any accumulation, the epilogue stores the value unchanged, so the CPU's pass over C can be skipped.</summary>
    public static bool IsIdentity(GemmProblem p) =>
        p.Epilogue == (int)Epilogue.Store || p.Epilogue == (int)Epilogue.Accumulate
        || TimesDerivative(p) && p.Activation == (int)Activation.Identity;
}
