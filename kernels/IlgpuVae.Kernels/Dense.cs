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
/// <c>…Simd</c> for the CPU accelerator (vector code); the epilogues are shared. The product problems honour
/// any strides, so the convolutions (<see cref="Convolutions"/>) use the same two kernels. Parameters: the
/// thread index (CPU), the problems and sizes, inputs, outputs.
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

    // ---- two products in one launch: a layer's backward, or any pair the convolutions need ----------------

    /// <summary>
    /// GPU: the first <see cref="TiledGemm.Tiles"/>(first) groups compute C1 = A1·B1 — and, where rowSums1 is not
    /// empty, rowSums1[m] = Σₖ A1(m, k) (a bias gradient) — the rest C2 = (A2·B2) ⊙ act'(aux2), none when second
    /// has M = 0. A dense layer's backward is the pair dW = dPreᵀ·x with db, and dPrevPre = (dPre·W) ⊙ act_prev'(x):
    /// both read dPre, and one launch serves the layer.
    /// </summary>
    public static void PairTiled(GemmProblem first, GemmProblem second, int side,
        ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> c1, ArrayView<float> rowSums1,
        ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        int tile = Grid.IdxX, firstTiles = TiledGemm.Tiles(first, side);
        if (tile < firstTiles)
            TiledGemm.Run<Plain>(tile, side, first, a1, b1, c1, c1, rowSums1);
        else
            TiledGemm.Run<TimesActivationDerivative>(tile - firstTiles, side, second, a2, b2, c2, aux2, default);
    }

    /// <summary>
    /// CPU accelerator: <see cref="PairTiled"/> with threads below first.Threads each taking a band of C1's rows
    /// (and of rowSums1, summed in the same pass), the rest a band of C2's rows; second.Threads is 0 for none.
    /// </summary>
    public static void PairSimd(Index1D thread, GemmProblem first, GemmProblem second,
        ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> c1, ArrayView<float> rowSums1,
        ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        if (thread < first.Threads)
        {
            var (m0, m1) = SimdGemm.Band(thread, first);
            if (m0 >= m1) return;
            SimdGemm.Run<Plain>(thread, first, a1, b1, c1, c1);
            if (rowSums1.Length > 0) SimdGemm.RowSums(first, m0, m1, a1, rowSums1);
        }
        else
            SimdGemm.Run<TimesActivationDerivative>(thread - first.Threads, second, a2, b2, c2, aux2);
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
