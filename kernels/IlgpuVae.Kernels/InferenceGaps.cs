using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// One launch of <see cref="InferenceGaps.AdamGpu"/>: a draw's gradient of the variational parameters, added into the
/// step's running sum, and on the step's last draw Adam's update with the mean over the draws.
/// </summary>
public struct GapAdamStep
{
    /// <summary>Adam's scalars (no weight decay) and the parameters among the launch's threads.</summary>
    public AdamStep Adam;
    /// <summary>1: this is the step's first draw (the running sum starts from it); 1: its last (the update follows).</summary>
    public int First, Last;
    /// <summary>1/draws: the sum over the step's draws becomes their mean.</summary>
    public float Scale;
}

/// <summary>The rows of one draw whose ELBO <see cref="InferenceGaps.ElboDraw"/> takes; its moments' layout.</summary>
public struct ElboDrawProblem
{
    /// <summary>Values per row of the moments: Σe, Σe², Σ(e − e_paired)².</summary>
    public const int Moments = 3;

    /// <summary>The images, and the KL elements per image.</summary>
    public int Rows, Latent;
    /// <summary>1: the first draw, whose moments overwrite what was there.</summary>
    public int First;
    /// <summary>
    /// 0: the draw's ELBO is written to <c>draw</c> for a paired draw to come; 1: this is that paired draw (the same ε
    /// through other variational parameters), and the square of its difference from <c>draw</c> is accumulated.
    /// </summary>
    public int Paired;
}

/// <summary>
/// The inference gap's kernels (Cremer, Li &amp; Duvenaud, 2018): each image's variational parameters — the encoder's
/// heads μ and log σ², and an IAF posterior's context — optimized by Adam on their own, the decoder and the flow fixed,
/// and each draw's per-image ELBO gathered into running moments, so the means and their Monte Carlo errors stay on
/// the device until the end.
/// </summary>
public static class InferenceGaps
{
    /// <summary>
    /// One draw of every image's parameters θ: acc ← (first ? 0 : acc) + g; on the last draw of the step,
    /// θ ← Adam(θ, scale·acc) (<see cref="Optimizers.Adam"/>, the training optimizer's element update). g is ∂(−ELBO)/∂θ
    /// of each image's own draw, so one flat launch is a separate Adam per image.
    /// </summary>
    public static void AdamGpu(Index1D thread, GapAdamStep s,
        ArrayView<float> gradients, ArrayView<float> parameters, ArrayView<float> sums, ArrayView<float> m, ArrayView<float> v)
    {
        var items = s.Adam.Items;
        foreach (int i in items.Of(thread))
        {
            float g = s.First != 0 ? gradients[i] : sums[i] + gradients[i];
            if (s.Last == 0) sums[i] = g;
            else parameters[i] = Optimizers.Adam<float, FloatArithmetic>(s.Adam, parameters[i], g * s.Scale, ref m[i], ref v[i]);
        }
    }

    /// <summary>CPU: <see cref="AdamGpu"/> over each thread's run as vector code (<see cref="InferenceGapRows.Adam"/>), the same bits.</summary>
    public static void AdamCpu(Index1D thread, GapAdamStep s,
        ArrayView<float> gradients, ArrayView<float> parameters, ArrayView<float> sums, ArrayView<float> m, ArrayView<float> v)
    {
        var items = s.Adam.Items;
        foreach (var run in items.RunsOf(thread))
            InferenceGapRows.Adam(s, run.From, run.To, gradients, parameters, sums, m, v);
    }

    /// <summary>
    /// Per image, its draw's ELBO e = −(−log p(x|z)) − Σⱼ klⱼ — the reconstruction term and the posterior's KL elements
    /// (analytic for the Gaussian, log q(z|x) − log p(z) for a flow) — added into its moments [Σe, Σe², Σd²], d the
    /// difference from the paired draw's ELBO (<see cref="ElboDrawProblem.Paired"/>).
    /// </summary>
    public static void ElboDraw(Index1D index, ElboDrawProblem p,
        ArrayView<double> nll, ArrayView<double> kl, ArrayView<double> draw, ArrayView<double> moments)
    {
        int row = index;
        double e = -nll[row];
        for (int j = 0; j < p.Latent; j++) e -= kl[(long)row * p.Latent + j];
        double d = 0;
        if (p.Paired != 0) d = e - draw[row];
        else draw[row] = e;
        long at = (long)row * ElboDrawProblem.Moments;
        moments[at] = p.First != 0 ? e : moments[at] + e;
        moments[at + 1] = p.First != 0 ? e * e : moments[at + 1] + e * e;
        moments[at + 2] = p.First != 0 ? d * d : moments[at + 2] + d * d;
    }
}
