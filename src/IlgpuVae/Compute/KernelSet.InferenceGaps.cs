using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

// The inference gap's kernels (InferenceGaps): per-image Adam over the variational parameters, and each draw's ELBO
// gathered into per-image moments.
internal abstract partial class KernelSet
{
    /// <summary>
    /// One draw of the variational parameters' optimization (<see cref="InferenceGaps.AdamGpu"/>): the draw's gradient into
    /// the step's sum, and on its last draw Adam's update from their mean; <paramref name="s"/>'s partition is set here.
    /// </summary>
    public void GapAdam(GapAdamStep s, ArrayView<float> gradients, ArrayView<float> parameters, ArrayView<float> sums, ArrayView<float> m, ArrayView<float> v)
    {
        int length = (int)parameters.Length;
        Require(gradients, length, nameof(gradients)); Require(m, length, nameof(m)); Require(v, length, nameof(v));
        if (s.First == 0 || s.Last == 0) Require(sums, length, nameof(sums));
        s.Adam.Items = Partition(length);
        gapAdam.Launch(s.Adam.Items.Threads, s, gradients, parameters, sums, m, v);
    }

    readonly Kernel<Action<Index1D, GapAdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> gapAdam =
        new(load, gpu: InferenceGaps.AdamGpu, cpu: InferenceGaps.AdamCpu);

    /// <summary>Each image's ELBO of one draw added into its moments (<see cref="InferenceGaps.ElboDraw"/>).</summary>
    public void ElboDraw(ElboDrawProblem p, ArrayView<double> nll, ArrayView<double> kl, ArrayView<double> draw, ArrayView<double> moments)
    {
        if (p.Rows <= 0 || p.Latent <= 0) throw new InternalFaultException($"The ELBO of {p.Rows} rows of {p.Latent} KL elements was asked for.");
        Require(nll, p.Rows, nameof(nll)); Require(kl, (long)p.Rows * p.Latent, nameof(kl)); Require(draw, p.Rows, nameof(draw));
        Require(moments, (long)p.Rows * ElboDrawProblem.Moments, nameof(moments));
        elboDraw.Launch(p.Rows, p, nll, kl, draw, moments);
    }

    readonly Kernel<Action<Index1D, ElboDrawProblem, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>> elboDraw =
        new(load, InferenceGaps.ElboDraw);
}
