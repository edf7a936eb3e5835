using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// A fully connected layer y = act(x·Wᵀ + b) for a batch, in PyTorch's layout, and its backward.
/// Shapes: x [B, in], W [out, in], b [out], y [B, out].
/// The backward takes dPre = ∂L/∂(x·Wᵀ + b) [B, out] and writes (overwriting, not adding):
///   dW = dPreᵀ·x [out, in], db = Σ_batch dPre [out], and
///   dPrevPre = (dPre·W) ⊙ act_prev'(x) [B, in], the gradient for the previous layer's pre-activation,
/// so the activation's backward rides in the input-gradient product and needs no pass of its own.
/// Each kernel takes the thread index first, then the problem, inputs, outputs.
/// </summary>
public static class Dense
{
    // ---- forward: y = act(x·Wᵀ + b) ----------------------------------------------------------------

    /// <summary>The product for <see cref="Forward"/>: M = B, N = out, K = in, B(k, n) = W[n, k].</summary>
    public static GemmProblem ForwardProblem(int batch, int inputs, int outputs, Activation activation) => new()
    {
        M = batch, N = outputs, K = inputs,
        ARow = inputs, ACol = 1,
        BRow = 1, BCol = inputs,
        Activation = (int)activation,
    };

    /// <summary>y = act(x·Wᵀ + b), the bias and activation fused into the store.</summary>
    public static void Forward(Index1D thread, GemmProblem p,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y) =>
        Gemm.Run<BiasThenActivation>(thread, p, x, weight, y, bias);

    /// <summary><see cref="Forward"/> on the CPU accelerator's vector units (<see cref="SimdGemm"/>).</summary>
    public static void ForwardSimd(Index1D thread, GemmProblem p,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y) =>
        SimdGemm.Run<BiasThenActivation>(thread, p, x, weight, y, bias);

    // ---- backward ----------------------------------------------------------------------------------

    /// <summary>
    /// The product for <see cref="BackwardInput"/>: M = B, N = in, K = out, A = dPre [B, out], B = W [out, in];
    /// <paramref name="previousActivation"/> is the activation that produced x (Identity for the input).
    /// </summary>
    public static GemmProblem BackwardInputProblem(int batch, int inputs, int outputs, Activation previousActivation) => new()
    {
        M = batch, N = inputs, K = outputs,
        ARow = outputs, ACol = 1,
        BRow = inputs, BCol = 1,
        Activation = (int)previousActivation,
    };

    /// <summary>dPrevPre = (dPre·W) ⊙ act_prev'(x), with the derivative taken from x, the previous output.</summary>
    public static void BackwardInput(Index1D thread, GemmProblem p,
        ArrayView<float> dPre, ArrayView<float> weight, ArrayView<float> x, ArrayView<float> dPrevPre) =>
        Gemm.Run<TimesActivationDerivative>(thread, p, dPre, weight, dPrevPre, x);

    /// <summary><see cref="BackwardInput"/> on the CPU accelerator's vector units (<see cref="SimdGemm"/>).</summary>
    public static void BackwardInputSimd(Index1D thread, GemmProblem p,
        ArrayView<float> dPre, ArrayView<float> weight, ArrayView<float> x, ArrayView<float> dPrevPre) =>
        SimdGemm.Run<TimesActivationDerivative>(thread, p, dPre, weight, dPrevPre, x);

    /// <summary>The product for <see cref="BackwardWeight"/>: M = out, N = in, K = B, A(m, k) = dPre[k, m].</summary>
    public static GemmProblem BackwardWeightProblem(int batch, int inputs, int outputs) => new()
    {
        M = outputs, N = inputs, K = batch,
        ARow = 1, ACol = outputs,
        BRow = inputs, BCol = 1,
    };

    /// <summary>dW = dPreᵀ·x.</summary>
    public static void BackwardWeight(Index1D thread, GemmProblem p,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> dWeight) =>
        Gemm.Run<Plain>(thread, p, dPre, x, dWeight, dWeight);

    /// <summary><see cref="BackwardWeight"/> on the CPU accelerator's vector units (<see cref="SimdGemm"/>).</summary>
    public static void BackwardWeightSimd(Index1D thread, GemmProblem p,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> dWeight) =>
        SimdGemm.Run<Plain>(thread, p, dPre, x, dWeight, dWeight);

    /// <summary>db[n] = Σ_b dPre[b, n]; grid-stride over the output columns, which <paramref name="s"/> deals out.</summary>
    public static void BackwardBias(Index1D thread, Shares s, int batch,
        ArrayView<float> dPre, ArrayView<float> dBias)
    {
        int outputs = s.Length;
        for (int run = s.Start(thread); run < outputs; run = s.Next(run))
            for (int n = run; n < s.End(run); n++)
            {
                float sum = 0f;
                for (int b = 0; b < batch; b++)
                    sum += dPre[b * outputs + n];
                dBias[n] = sum;
            }
    }

    // ---- epilogues -----------------------------------------------------------------------------------

    struct BiasThenActivation : IGemmEpilogue
    {
        public readonly float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> bias) =>
            Activations.Forward(acc + bias[n], p.Activation);

        public readonly bool IsIdentity(GemmProblem p) => false;
    }

    struct TimesActivationDerivative : IGemmEpilogue
    {
        public readonly float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> x) =>
            p.Activation == (int)Activation.Identity ? acc : acc * Activations.Derivative(x[m * p.N + n], p.Activation);

        public readonly bool IsIdentity(GemmProblem p) => p.Activation == (int)Activation.Identity;
    }

    struct Plain : IGemmEpilogue
    {
        public readonly float Apply(float acc, int m, int n, GemmProblem p, ArrayView<float> unused) => acc;

        public readonly bool IsIdentity(GemmProblem p) => true;
    }
}
