using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// A fully connected layer y = act(x·Wᵀ + b) for a batch, in PyTorch's layout, and its backward.
/// Shapes: x [B, in], W [out, in], b [out], y [B, out].
/// The backward takes dPre = ∂L/∂(x·Wᵀ + b) [B, out] and writes (overwriting, not adding):
///   dW = dPreᵀ·x [out, in], db = Σ_batch dPre [out], and
///   dPrevPre = (dPre·W) ⊙ act_prev'(x) [B, in], the gradient for the previous layer's pre-activation,
/// so the activation's backward rides in the input-gradient product and needs no pass of its own.
/// Each kernel exists for both backends: <c>…Tiled</c> for GPUs (explicitly grouped, shared memory), and
/// <c>…Simd</c> for the CPU accelerator (vector code); the epilogues are shared. Parameters: the thread
/// index (CPU), the problems and sizes, inputs, outputs.
/// </summary>
public static class Dense
{
    // ---- the products' shapes ------------------------------------------------------------------------------

    /// <summary>y = act(x·Wᵀ + b): M = B, N = out, K = in, B(k, n) = W[n, k].</summary>
    public static GemmProblem ForwardProblem(int batch, int inputs, int outputs, Activation activation) => new()
    {
        M = batch, N = outputs, K = inputs,
        ARow = inputs, ACol = 1,
        BRow = 1, BCol = inputs,
        Activation = (int)activation,
    };

    /// <summary>
    /// dPrevPre = (dPre·W) ⊙ act_prev'(x): M = B, N = in, K = out, A = dPre [B, out], B = W [out, in];
    /// <paramref name="previousActivation"/> is the activation that produced x (Identity for the input).
    /// </summary>
    public static GemmProblem BackwardInputProblem(int batch, int inputs, int outputs, Activation previousActivation) => new()
    {
        M = batch, N = inputs, K = outputs,
        ARow = outputs, ACol = 1,
        BRow = inputs, BCol = 1,
        Activation = (int)previousActivation,
    };

    /// <summary>dW = dPreᵀ·x: M = out, N = in, K = B, A(m, k) = dPre[k, m]; db = the row sums of that A.</summary>
    public static GemmProblem BackwardWeightProblem(int batch, int inputs, int outputs) => new()
    {
        M = outputs, N = inputs, K = batch,
        ARow = 1, ACol = outputs,
        BRow = inputs, BCol = 1,
    };

    // ---- forward: y = act(x·Wᵀ + b) ----------------------------------------------------------------

    /// <summary>GPU: one block tile of y per group (<see cref="TiledGemm"/>), the bias and activation fused into the store.</summary>
    public static void ForwardTiled(GemmProblem p, int side,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y) =>
        TiledGemm.Run<BiasThenActivation>(Grid.IdxX, side, p, x, weight, y, bias, default);

    /// <summary>CPU accelerator: one band of y's rows per thread, on the vector units (<see cref="SimdGemm"/>).</summary>
    public static void ForwardSimd(Index1D thread, GemmProblem p,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y) =>
        SimdGemm.Run<BiasThenActivation>(thread, p, x, weight, y, bias);

    // ---- backward: dW, db and dPrevPre of one layer in one launch ----------------------------------------

    /// <summary>
    /// GPU: the first <see cref="TiledGemm.Tiles"/>(weight) groups compute dW = dPreᵀ·x with db fused in (the row
    /// sums of dPreᵀ), the rest dPrevPre = (dPre·W) ⊙ act_prev'(x) — none when <paramref name="input"/> has M = 0
    /// (the first layer, whose input needs no gradient). Both read dPre, so one launch serves the layer.
    /// </summary>
    public static void BackwardTiled(GemmProblem weight, GemmProblem input, int side,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> w,
        ArrayView<float> dWeight, ArrayView<float> dBias, ArrayView<float> dPrevPre)
    {
        int tile = Grid.IdxX, weightTiles = TiledGemm.Tiles(weight, side);
        if (tile < weightTiles)
            TiledGemm.Run<Plain>(tile, side, weight, dPre, x, dWeight, dWeight, dBias);
        else
            TiledGemm.Run<TimesActivationDerivative>(tile - weightTiles, side, input, dPre, w, dPrevPre, x, default);
    }

    /// <summary>
    /// CPU accelerator: threads below weight.Threads each take a band of dW's rows (and of db, summed in the same
    /// pass), the rest a band of dPrevPre's rows; input.Threads is 0 when no input gradient is wanted.
    /// </summary>
    public static void BackwardSimd(Index1D thread, GemmProblem weight, GemmProblem input,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> w,
        ArrayView<float> dWeight, ArrayView<float> dBias, ArrayView<float> dPrevPre)
    {
        if (thread < weight.Threads)
        {
            var (m0, m1) = SimdGemm.Band(thread, weight);
            if (m0 >= m1) return;
            SimdGemm.Run<Plain>(thread, weight, dPre, x, dWeight, dWeight);
            SimdGemm.RowSums(weight, m0, m1, dPre, dBias);
        }
        else
            SimdGemm.Run<TimesActivationDerivative>(thread - weight.Threads, input, dPre, w, dPrevPre, x);
    }

    // ---- epilogues, shared by both backends ------------------------------------------------------------

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
