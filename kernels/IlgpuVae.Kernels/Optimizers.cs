using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>The scalars of one Adam/AdamW step; the bias corrections are computed on the host.</summary>
public struct AdamStep
{
    /// <summary>lr, β₁, β₂ and ε of the update.</summary>
    public float LearningRate, Beta1, Beta2, Epsilon;
    /// <summary>1 − β₁ᵗ and 1 − β₂ᵗ for step t (1-based).</summary>
    public float BiasCorrection1, BiasCorrection2;
    /// <summary>Adam: L2 added to the gradient (PyTorch's Adam weight_decay). AdamW: decoupled decay.</summary>
    public float WeightDecay;
    /// <summary>1 for AdamW's decoupled decay, 0 for Adam's coupled L2.</summary>
    public int Decoupled;
    /// <summary>The parameters among the launch's threads.</summary>
    public Partition Items;
}

/// <summary>The scalars of one SGD-with-momentum step (PyTorch's formulation, dampening 0).</summary>
public struct SgdStep
{
    /// <summary>lr, the momentum μ and the L2 weight decay λ.</summary>
    public float LearningRate, Momentum, WeightDecay;
    /// <summary>The parameters among the launch's threads.</summary>
    public Partition Items;
}

/// <summary>
/// Optimizer updates, each one launch over the whole flat parameter buffer (grid-stride, see <see cref="Partition"/>), as in PyTorch:
///   Adam:  g ← g + λθ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·(m/c₁)/(√(v/c₂) + ε)
///   AdamW: θ ← θ(1 − lr·λ) first, then the Adam step without λ in g.
///   SGD:   g ← g + λθ;  b ← μb + g;  θ ← θ − lr·b.
/// Each thread also counts the non-finite gradients in its share and adds its count into faults[0] with an
/// integer atomic (exact in any order), so a NaN or infinity is noticed in the same launch and the host reads
/// one value, with the loss terms (<see cref="Reductions"/> moves it there and resets it).
/// </summary>
public static class Optimizers
{
    /// <summary>One Adam or AdamW step of every parameter; counts non-finite gradients into faults[0].</summary>
    public static void AdamGpu(Index1D thread, AdamStep s,
        ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<int> faults)
    {
        int bad = 0;
        var items = s.Items;
        foreach (int i in items.Of(thread))
        {
            float theta = parameters[i], g = gradients[i];
            if (!XMath.IsFinite(g)) bad++;
            parameters[i] = Adam<float, FloatArithmetic>(s, theta, g, ref m[i], ref v[i]);
        }
        if (bad > 0) Atomic.Add(ref faults[0], bad);
    }

    /// <summary>
    /// Adam's update of one parameter θ with gradient g and moments m and v, or of a vector of them lane by lane: the
    /// formula above, written once for <see cref="AdamGpu"/> and the CPU accelerator's vector code and its scalar tail
    /// (<see cref="OptimizerRows.Adam"/>), the same operations in the same order, so all three give the same bits.
    /// Returns the new θ; m and v are updated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Adam<T, TArithmetic>(AdamStep s, T theta, T g, ref T m, ref T v)
        where T : struct where TArithmetic : struct, IArithmetic<T>
    {
        var a = default(TArithmetic);
        if (s.Decoupled != 0) theta = a.MultiplyByScalar(theta, 1f - s.LearningRate * s.WeightDecay);
        else g = a.Add(g, a.MultiplyScalar(s.WeightDecay, theta));
        T mi = a.Add(a.MultiplyScalar(s.Beta1, m), a.MultiplyScalar(1f - s.Beta1, g));
        T vi = a.Add(a.MultiplyScalar(s.Beta2, v), a.Multiply(a.MultiplyScalar(1f - s.Beta2, g), g));
        m = mi;
        v = vi;
        // θ − lr·(m/c₁) / (√(v/c₂) + ε)
        return a.Subtract(theta, a.Divide(a.MultiplyScalar(s.LearningRate, a.DivideScalar(mi, s.BiasCorrection1)),
            a.AddScalar(a.Sqrt(a.DivideScalar(vi, s.BiasCorrection2)), s.Epsilon)));
    }

    /// <summary>
    /// CPU: <see cref="AdamGpu"/> over each thread's run as vector code (<see cref="OptimizerRows.Adam"/>); the
    /// CPU accelerator's <see cref="Partition"/> gives each thread one contiguous run.
    /// </summary>
    public static void AdamCpu(Index1D thread, AdamStep s,
        ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<int> faults)
    {
        var items = s.Items;
        foreach (var run in items.RunsOf(thread))
            OptimizerRows.Adam(s, run.From, run.To, parameters, gradients, m, v, faults);
    }

    /// <summary>One SGD-with-momentum step of every parameter; counts non-finite gradients into faults[0].</summary>
    public static void SgdMomentum(Index1D thread, SgdStep s,
        ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity, ArrayView<int> faults)
    {
        int bad = 0;
        var items = s.Items;
        foreach (int i in items.Of(thread))
        {
            if (!XMath.IsFinite(gradients[i])) bad++;
            float g = gradients[i] + s.WeightDecay * parameters[i];
            float b = s.Momentum * velocity[i] + g;
            velocity[i] = b;
            parameters[i] -= s.LearningRate * b;
        }
        if (bad > 0) Atomic.Add(ref faults[0], bad);
    }
}
