using System.Numerics;
using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels;

/// <summary>
/// The width-independent vector rows behind <see cref="SimdGemm"/>: the bias gradient's row sums, the epilogues
/// run on C after its product, and the scalar product of any other layout (the products' tiles are
/// <see cref="SimdTiles{V}"/>). Plain .NET code, never seen by ILGPU's IR; refs as there.
/// </summary>
static class SimdRows
{
    static int W => Vector<float>.Count;

    static Vector<float> Load(ref float r, int i) => Vector.LoadUnsafe(ref r, (nuint)i);

    static ref float At(ref float r, int i) => ref Unsafe.Add(ref r, i);

    // ---- row sums of A ---------------------------------------------------------------------------------------

    /// <summary>sums[m] = Σₖ A(m, k) for m0 ≤ m &lt; m1; a vector of adjacent rows at a time when ARow = 1.</summary>
    public static void RowSums(GemmProblem p, int m0, int m1, ref float a, ref float sums)
    {
        int m = m0;
        if (p.ARow == 1)
            for (; m + W <= m1; m += W)
            {
                Vector<float> acc = default;
                for (int k = 0; k < p.K; k++)
                    acc += Load(ref a, p.AOffset + k * p.ACol + m);
                acc.StoreUnsafe(ref sums, (nuint)m);
            }
        for (; m < m1; m++)
        {
            float sum = 0f;
            for (int k = 0; k < p.K; k++)
                sum += At(ref a, p.AOffset + m * p.ARow + k * p.ACol);
            At(ref sums, m) = sum;
        }
    }

    // ---- epilogues --------------------------------------------------------------------------------------------

    /// <summary>
    /// C[m, n] = epilogue(C[m, n]) for rows m0 ≤ m &lt; m1 and columns n0 ≤ n &lt; n1 (<see cref="Epilogues"/>), a vector at a time where
    /// <see cref="VectorActivations"/> covers the activation; otherwise, and for the columns past the last whole
    /// vector, element by element through <see cref="Epilogues.Apply(float, float, GemmProblem)"/>.
    /// </summary>
    public static void EpilogueRows(GemmProblem p, int m0, int m1, int n0, int n1, ref float c, ref float aux)
    {
        int epilogue = p.Epilogue, activation = p.Activation;
        bool vectors = epilogue switch
        {
            (int)Epilogue.Masked => true,
            (int)Epilogue.TimesDerivative or (int)Epilogue.AccumulateTimesDerivative => VectorActivations.HasDerivative(activation),
            _ => VectorActivations.HasForward(activation),
        };
        int vectorEnd = vectors ? n1 - (n1 - n0) % W : n0;
        for (int m = m0; m < m1; m++)
        {
            int row = m * p.N, n = n0;
            for (; n < vectorEnd; n += W)
            {
                var acc = Load(ref c, row + n);
                var result = epilogue switch
                {
                    (int)Epilogue.BiasActivation => VectorActivations.Forward(acc + Load(ref aux, n), activation),
                    (int)Epilogue.AddActivation => VectorActivations.Forward(acc + Load(ref aux, row + n), activation),
                    (int)Epilogue.TimesDerivative or (int)Epilogue.AccumulateTimesDerivative
                        => acc * VectorActivations.Derivative(Load(ref aux, row + n), activation),
                    (int)Epilogue.Masked => Vector.ConditionalSelect(Vector.Equals(Load(ref aux, row + n), Vector<float>.Zero), Vector<float>.Zero, acc),
                    _ => acc,
                };
                result.StoreUnsafe(ref c, (nuint)(row + n));
            }
            for (; n < n1; n++)
            {
                int i = Epilogues.AuxIndex(p, m, n);
                At(ref c, row + n) = Epilogues.Apply(At(ref c, row + n), i < 0 ? 0f : At(ref aux, i), p);
            }
        }
    }

    // ---- any other layout ---------------------------------------------------------------------------------

    public static void ScalarRows(GemmProblem p, int m0, int m1, int n0, int n1, bool add, ref float a, ref float b, ref float c)
    {
        for (int m = m0; m < m1; m++)
            for (int n = n0; n < n1; n++)
                Put(add, ref c, m * p.N + n, ScalarDot(p, m, n, ref a, ref b));
    }

    /// <summary>C[i] = value, or C[i] += value for an accumulating product.</summary>
    internal static void Put(bool add, ref float c, int i, float value) => At(ref c, i) = add ? At(ref c, i) + value : value;

    static float ScalarDot(GemmProblem p, int m, int n, ref float a, ref float b)
    {
        int ai = p.AOffset + m * p.ARow, bi = p.BOffset + n * p.BCol;
        float sum = 0f;
        for (int k = 0; k < p.K; k++)
            sum += At(ref a, ai + k * p.ACol) * At(ref b, bi + k * p.BRow);
        return sum;
    }
}
