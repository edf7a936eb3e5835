using System.Numerics;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="Estimators.MutualInformationCpu"/>: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>). Each thread first lays the posteriors out by dimension — μ,
/// the precision e^(−log σ²) and each posterior's constant −½Σⱼ(log 2π + log σ²) — so that a code's log density
/// under <see cref="Vector{T}.Count"/> posteriors is one vector of double FMAs per dimension, and no exponential
/// is taken per pair and dimension. A code's N log densities are then summed as max + log Σ exp(· − max), with
/// its own density taken from the same list, so each term stays at most log N.
/// </summary>
static class MutualInformationRows
{
    [ThreadStatic] static double[]? scratch;

    /// <summary>Terms i = thread, thread + threads, … of <see cref="Estimators.MutualInformationCpu"/>; unchecked.</summary>
    [External("ilgpuvae_mutual_information_rows")]
    public static void Terms(int count, int latent, int thread, int threads,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms)
    {
        int w = Vector<double>.Count, padded = (count + w - 1) / w * w, k = latent;
        int size = (2 * k + 2) * padded;
        if (scratch is null || scratch.Length < size) scratch = new double[size];
        var mu = scratch.AsSpan(0, k * padded);
        var precision = scratch.AsSpan(k * padded, k * padded);
        var constant = scratch.AsSpan(2 * k * padded, padded);
        var logs = scratch.AsSpan((2 * k + 1) * padded, padded);
        mu.Clear(); precision.Clear(); constant.Clear();
        for (int n = 0; n < count; n++)
        {
            double c = 0;
            for (int j = 0; j < k; j++)
            {
                double logVar = heads[n * 2 * k + k + j];
                mu[j * padded + n] = heads[n * 2 * k + j];
                precision[j * padded + n] = Math.Exp(-logVar);
                c -= Estimators.HalfLog2Pi + 0.5 * logVar;
            }
            constant[n] = c;
        }
        var muV = MemoryMarshal.Cast<double, Vector<double>>(mu);
        var precisionV = MemoryMarshal.Cast<double, Vector<double>>(precision);
        var constantV = MemoryMarshal.Cast<double, Vector<double>>(constant);
        var logsV = MemoryMarshal.Cast<double, Vector<double>>(logs);
        int blocks = padded / w;
        var half = new Vector<double>(0.5);
        for (int i = thread; i < count; i += threads)
        {
            for (int b = 0; b < blocks; b++)
            {
                var squares = Vector<double>.Zero;
                for (int j = 0; j < k; j++)
                {
                    var d = new Vector<double>(z[i * k + j]) - muV[j * blocks + b];
                    squares += d * d * precisionV[j * blocks + b];
                }
                var log = constantV[b] - half * squares;
                logsV[b] = log;
            }
            // Padding lanes (past count) hold densities of posteriors that do not exist: only the first count count.
            double top = double.NegativeInfinity;
            for (int n = 0; n < count; n++) top = Math.Max(top, logs[n]);
            var sumV = Vector<double>.Zero;
            var topV = new Vector<double>(top);
            for (int b = 0; b < count / w; b++) sumV += Vector.Exp(logsV[b] - topV);
            double sum = Vector.Sum(sumV);
            for (int n = count / w * w; n < count; n++) sum += Math.Exp(logs[n] - top);
            terms[i] = logs[i] - (top + Math.Log(sum) - Math.Log(count));
        }
    }
}
