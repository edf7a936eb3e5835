namespace IlgpuVae.Kernels;

/// <summary>
/// A fully connected layer y = act(x·Wᵀ + b) for a batch, in PyTorch's layout, and its backward, as the
/// problems of <see cref="Products"/>. Shapes: x [B, in], W [out, in], b [out], y [B, out].
/// The backward takes dPre = ∂L/∂(x·Wᵀ + b) [B, out] and writes (overwriting, not adding):
///   dW = dPreᵀ·x [out, in], db = Σ_batch dPre [out] (the row sums of that product's A), and
///   dPrevPre = (dPre·W) ⊙ act_prev'(x) [B, in], the gradient for the previous layer's pre-activation,
/// so the activation's backward rides in the input-gradient product and needs no pass of its own; the two
/// products run in one launch.
/// </summary>
public static class Dense
{
    /// <summary>y = act(x·Wᵀ + b): M = B, N = out, K = in, B(k, n) = W[n, k]; aux is the bias.</summary>
    public static GemmProblem ForwardProblem(int batch, int inputs, int outputs, Activation activation) => new()
    {
        M = batch, N = outputs, K = inputs,
        ARow = inputs, ACol = 1,
        BRow = 1, BCol = inputs,
        Activation = (int)activation, Epilogue = (int)Epilogue.BiasActivation,
    };

    /// <summary>
    /// dPrevPre = (dPre·W) ⊙ act_prev'(x): M = B, N = in, K = out, A = dPre [B, out], B = W [out, in], aux = x;
    /// <paramref name="previousActivation"/> is the activation that produced x (Identity for the input). With
    /// <paramref name="accumulate"/>, the product is added to what dPrevPre holds (another layer's gradient for the
    /// same x) before the derivative: dPrevPre = (dPrevPre + dPre·W) ⊙ act_prev'(x).
    /// </summary>
    public static GemmProblem BackwardInputProblem(int batch, int inputs, int outputs, Activation previousActivation, bool accumulate = false) => new()
    {
        M = batch, N = inputs, K = outputs,
        ARow = outputs, ACol = 1,
        BRow = inputs, BCol = 1,
        Activation = (int)previousActivation,
        Epilogue = (int)(accumulate ? Epilogue.AccumulateTimesDerivative : Epilogue.TimesDerivative),
    };

    /// <summary>dW = dPreᵀ·x: M = out, N = in, K = B, A(m, k) = dPre[k, m]; db = the row sums of that A.</summary>
    public static GemmProblem BackwardWeightProblem(int batch, int inputs, int outputs) => new()
    {
        M = outputs, N = inputs, K = batch,
        ARow = 1, ACol = outputs,
        BRow = inputs, BCol = 1,
        Epilogue = (int)Epilogue.Store,
    };
}
