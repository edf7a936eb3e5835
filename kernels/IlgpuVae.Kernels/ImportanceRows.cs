using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Estimators.ImportanceSamplesCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>). The draws of one image's consecutive rows have consecutive
/// counters, so they are drawn a vector at a time (<see cref="VectorNormals"/>, the scalar draws' bits) into a
/// buffer; z and the log ratio then follow <see cref="Estimators.ImportanceSamplesGpu"/>'s expressions, with each
/// image's σ computed once rather than once per draw. The host has checked the views' sizes.
/// </summary>
static class ImportanceRows
{
    /// <summary>Rows drawn per buffer fill.</summary>
    const int RowsPerFill = 64;

    /// <summary>Each thread's buffers of draws and of one image's σ, grown to the largest latent size seen.</summary>
    [ThreadStatic] static float[]? draws, sigmas;

    /// <summary>Rows [r0, r1) of the chunk, as <see cref="Estimators.ImportanceSamplesGpu"/> writes them.</summary>
    [External("ilgpuvae_importance_rows")]
    public static void Rows(ImportanceProblem p, int r0, int r1, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        int k = p.Latent;
        if (draws is null || draws.Length < RowsPerFill * k) (draws, sigmas) = (new float[RowsPerFill * k], new float[k]);
        for (int r = r0; r < r1;)
        {
            int b = r / p.RowStride, s = r - b * p.RowStride;
            int end = Math.Min(Math.Min(r1, b * p.RowStride + p.Samples), r + RowsPerFill);
            if (s >= p.Samples)
            {
                r = Math.Min(r1, (b + 1) * p.RowStride);  // rows past a short last chunk's draws stay as they are
                continue;
            }
            long counter = ((long)(p.FirstImage + b) * p.TotalSamples + p.FirstSample + s) * k;
            var eps = draws.AsSpan(0, (end - r) * k);
            VectorNormals.Fill(p.Key, counter, eps);
            int head = b * 2 * k;
            for (int j = 0; j < k; j++) sigmas![j] = DeviceMath.Exp(0.5f * heads[head + k + j]);
            for (int row = r, e = 0; row < end; row++)
            {
                double ratio = 0;
                for (int j = 0; j < k; j++, e++)
                {
                    float mu = heads[head + j], logVar = heads[head + k + j];
                    float zj = mu + sigmas![j] * eps[e];
                    z[row * k + j] = zj;
                    ratio += 0.5 * ((double)eps[e] * eps[e] - (double)zj * zj + logVar);
                }
                logRatio[row] = ratio;
            }
            r = end;
        }
    }
}
