using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>The sizes and scalars of a free-bits launch (<see cref="FreeBits"/>).</summary>
public struct FreeBitsProblem
{
    /// <summary>Rows of the batch (the divisor of the means) and dimensions of each code.</summary>
    public int B, Latent;
    /// <summary>λ, the nats each dimension keeps free: the clamp max(λ, mⱼ).</summary>
    public double Threshold;
    /// <summary>The KL term's weight over the batch, w = (1 − α)·warm-up / B: the gradient scale of a dimension above λ.</summary>
    public float KlGradScale;
    /// <summary>CPU (<see cref="FreeBits.DimensionsCpu"/>): the launch's threads, each a band of dimensions.</summary>
    public int Threads;
}

/// <summary>
/// Free bits (Kingma et al., 2016, "Improving variational inference with inverse autoregressive flow"): the KL term
/// Σⱼ mⱼ, mⱼ = Σ_b KL[b, j] / B the batch mean of dimension j's analytic KL, becomes Σⱼ max(λ, mⱼ), so a dimension
/// whose code carries λ nats or less costs λ and is not pushed further towards the prior.
///   ∂/∂KL[b, j] of w·B·max(λ, mⱼ) = w where mⱼ > λ, else 0 — the clamp's derivative (0 at the kink itself).
/// This launch gives each dimension its mean mⱼ (in double, for the loss reduction: <see cref="ClampedSum"/>) and its
/// gradient scale (w or 0, for <see cref="Reparameterize.BackwardPerDimension"/>), between the forward that writes
/// the KL elements and the backward that needs the scales, on the device. The CPU accelerator adds each dimension's
/// rows in order (<see cref="DimensionsCpu"/>), GPUs take a group per dimension with a fixed tree
/// (<see cref="DimensionsGpu"/>): both repeat bit for bit, each on its own backend.
/// </summary>
public static class FreeBits
{
    /// <summary>CPU: a band of dimensions per thread, the batch's rows in order, each row's stretch of the band at a time.</summary>
    public static void DimensionsCpu(Index1D thread, FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales)
    {
        var (from, to) = Partition.Band(thread, p.Threads, p.Latent);
        for (int j = from; j < to; j++) means[j] = 0.0;
        // Row-major: the thread reads its band of each row contiguously; every dimension still adds rows 0, 1, … in turn.
        for (int b = 0; b < p.B; b++)
            for (int j = from; j < to; j++) means[j] += klTerms[b * p.Latent + j];
        for (int j = from; j < to; j++) Finish(p, j, means[j], means, scales);
    }

    /// <summary>GPU: a group per dimension, a strided share of the rows per thread, then a fixed tree.</summary>
    public static void DimensionsGpu(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales)
    {
        int j = Grid.IdxX;
        var scratch = SharedScratch.ForReduction();
        double sum = 0.0;
        for (int b = Group.IdxX; b < p.B; b += Group.DimX) sum += klTerms[b * p.Latent + j];
        sum = GroupReductions.Sum(sum, scratch);
        if (Group.IdxX == 0) Finish(p, j, sum, means, scales);
    }

    static void Finish(FreeBitsProblem p, int j, double sum, ArrayView<double> means, ArrayView<float> scales)
    {
        double mean = sum / p.B;
        means[j] = mean;
        // Written as "not at or below" so that a NaN mean keeps its gradient, which the optimizer then counts as a fault.
        scales[j] = mean <= p.Threshold ? 0f : p.KlGradScale;
    }

    /// <summary>Σⱼ max(λ, mⱼ) over the first <paramref name="latent"/> means, in order; a NaN mean makes it NaN (never λ).</summary>
    public static double ClampedSum(ArrayView<double> means, int latent, double threshold)
    {
        double sum = 0.0;
        for (int j = 0; j < latent; j++)
        {
            double m = means[j];
            sum += m < threshold ? threshold : m;
        }
        return sum;
    }
}
