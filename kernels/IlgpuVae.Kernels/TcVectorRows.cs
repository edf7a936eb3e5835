using System.Numerics;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="TotalCorrelation.RowsCpu"/> and <see cref="TotalCorrelation.ColumnsCpu"/>:
/// plain .NET code behind ILGPU's <c>[External]</c> (see <see cref="SimdGemm"/>). Each thread first copies the other
/// side transposed, [k, padded], so one <see cref="Vector{T}"/> of doubles holds one dimension of that many partners;
/// a row (or column) then keeps its k × B log-densities in a thread's scratch, takes the log-sum-exps lane-wise
/// (maximum, then Σ exp(L − max)) and walks them once more for the gradient. Padding lanes carry an offset of −∞ (a
/// posterior) or a log-sum-exp of +∞ (a row), so their softmax weights are exactly 0.
/// </summary>
static class TcVectorRows
{
    [ThreadStatic] static double[]? scratch;

    static Span<double> Scratch(int size)
    {
        if (scratch is null || scratch.Length < size) scratch = new double[size];
        return scratch.AsSpan(0, size);
    }

    /// <summary>Rows thread, thread + threads, …: lse, rowTerms and, with a gradient, dz (<see cref="TotalCorrelation"/>). Nothing is checked here.</summary>
    [External("ilgpuvae_tc_rows")]
    public static void Rows(TcProblem p, int thread, int threads, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        int k = p.Latent, n = p.B, w = Vector<double>.Count, padded = (n + w - 1) / w * w, vectors = padded / w;
        var all = Scratch(4 * k * padded + padded + k);
        var mu = Vectors(all, 0, k * padded);
        var inverse = Vectors(all, k * padded, k * padded);
        var offset = Vectors(all, 2 * k * padded, k * padded);
        var logDensity = Vectors(all, 3 * k * padded, k * padded);
        var joint = Vectors(all, 4 * k * padded, padded);
        var marginal = all.Slice(4 * k * padded + padded, k);
        for (int t = 0; t < k; t++)
            for (int j = 0; j < padded; j++)
            {
                bool valid = j < n;
                double logVar = valid ? heads[j * 2 * k + k + t] : 0.0;
                all[t * padded + j] = valid ? heads[j * 2 * k + t] : 0.0;
                all[(k + t) * padded + j] = valid ? Math.Exp(-logVar) : 0.0;
                all[(2 * k + t) * padded + j] = valid ? TotalCorrelation.Offset(logVar) : double.NegativeInfinity;
            }
        double jointWeight = p.JointWeight, marginalWeight = p.MarginalWeight;

        for (int i = thread; i < n; i += threads)
        {
            joint.Clear();
            for (int t = 0; t < k; t++)
            {
                var zt = new Vector<double>(z[i * k + t]);
                var max = new Vector<double>(double.NegativeInfinity);
                for (int v = 0; v < vectors; v++)
                {
                    int at = t * vectors + v;
                    var d = zt - mu[at];
                    var l = offset[at] - 0.5 * d * d * inverse[at];
                    logDensity[at] = l;
                    joint[v] += l;
                    max = Vector.Max(max, l);
                }
                marginal[t] = LogSumExp(logDensity.Slice(t * vectors, vectors), Max(max));
            }
            var jointMax = new Vector<double>(double.NegativeInfinity);
            foreach (var j in joint) jointMax = Vector.Max(jointMax, j);
            double jointLse = LogSumExp(joint, Max(jointMax)), marginalSum = 0;
            lse[i * (k + 1)] = jointLse;
            for (int t = 0; t < k; t++)
            {
                lse[i * (k + 1) + 1 + t] = marginal[t];
                marginalSum += marginal[t];
            }
            double own = TotalCorrelation.OwnLogDensity(i, k, z, heads, out double logPrior);
            TotalCorrelation.WriteRowTerms(p, i, jointLse, marginalSum, own, logPrior, rowTerms);
            if (!p.Gradient) continue;

            for (int t = 0; t < k; t++)
            {
                double zt = z[i * k + t];
                var ztv = new Vector<double>(zt);
                var g = Vector<double>.Zero;
                for (int v = 0; v < vectors; v++)
                {
                    int at = t * vectors + v;
                    var weight = jointWeight * Vector.Exp(joint[v] - new Vector<double>(jointLse))
                        + marginalWeight * Vector.Exp(logDensity[at] - new Vector<double>(marginal[t]));
                    g -= weight * (ztv - mu[at]) * inverse[at];
                }
                // The own posterior's log q(zᵢ|xᵢ), weighted by the MI's weight, and −log p(zᵢ), by the DWKL's.
                int own0 = t * padded + i;
                double diagonal = -p.MiWeight * (zt - all[own0]) * all[k * padded + own0];
                dz[i * k + t] += (float)(Vector.Sum(g) + diagonal + p.DwklWeight * zt);
            }
        }
    }

    /// <summary>Columns thread, thread + threads, …: dHeads += the direct ∂/∂μ and ∂/∂log σ² (<see cref="TotalCorrelation"/>).</summary>
    [External("ilgpuvae_tc_columns")]
    public static void Columns(TcProblem p, int thread, int threads, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads)
    {
        int k = p.Latent, n = p.B, w = Vector<double>.Count, padded = (n + w - 1) / w * w, vectors = padded / w;
        var all = Scratch(3 * k * padded + 2 * padded + 2 * k * w);
        var rows = Vectors(all, 0, k * padded);
        var rowLse = Vectors(all, k * padded, k * padded);
        var logDensity = Vectors(all, 2 * k * padded, k * padded);
        var rowJointLse = Vectors(all, 3 * k * padded, padded);
        var joint = Vectors(all, 3 * k * padded + padded, padded);
        var gradMu = Vectors(all, 3 * k * padded + 2 * padded, k * w);
        var gradLogVar = Vectors(all, 3 * k * padded + 2 * padded + k * w, k * w);
        for (int j = 0; j < padded; j++)
        {
            bool valid = j < n;
            all[3 * k * padded + j] = valid ? lse[j * (k + 1)] : double.PositiveInfinity;
            for (int t = 0; t < k; t++)
            {
                all[t * padded + j] = valid ? z[j * k + t] : 0.0;
                all[(k + t) * padded + j] = valid ? lse[j * (k + 1) + 1 + t] : double.PositiveInfinity;
            }
        }
        double jointWeight = p.JointWeight, marginalWeight = p.MarginalWeight;

        for (int c = thread; c < n; c += threads)
        {
            joint.Clear();
            gradMu.Clear();
            gradLogVar.Clear();
            for (int t = 0; t < k; t++)
            {
                double logVar = heads[c * 2 * k + k + t];
                var mu = new Vector<double>(heads[c * 2 * k + t]);
                var inverse = new Vector<double>(Math.Exp(-logVar));
                var offset = new Vector<double>(TotalCorrelation.Offset(logVar));
                for (int v = 0; v < vectors; v++)
                {
                    var d = rows[t * vectors + v] - mu;
                    var l = offset - 0.5 * d * d * inverse;
                    logDensity[t * vectors + v] = l;
                    joint[v] += l;
                }
            }
            for (int v = 0; v < vectors; v++)
            {
                var softmax = jointWeight * Vector.Exp(joint[v] - rowJointLse[v]);
                for (int t = 0; t < k; t++)
                {
                    int at = t * vectors + v;
                    double inverse = Math.Exp(-(double)heads[c * 2 * k + k + t]);
                    var weight = softmax + marginalWeight * Vector.Exp(logDensity[at] - rowLse[at]);
                    var d = rows[at] - new Vector<double>(heads[c * 2 * k + t]);
                    gradMu[t] += weight * d * inverse;
                    gradLogVar[t] += weight * 0.5 * (d * d * inverse - Vector<double>.One);
                }
            }
            for (int t = 0; t < k; t++)
            {
                double mu = heads[c * 2 * k + t], inverse = Math.Exp(-(double)heads[c * 2 * k + k + t]);
                // The column's own code: log q(z_c|x_c), weighted by the MI's weight.
                double d = z[c * k + t] - mu;
                dHeads[c * 2 * k + t] += (float)(Vector.Sum(gradMu[t]) + p.MiWeight * d * inverse);
                dHeads[c * 2 * k + k + t] += (float)(Vector.Sum(gradLogVar[t]) + p.MiWeight * 0.5 * (d * d * inverse - 1.0));
            }
        }
    }

    static Span<Vector<double>> Vectors(Span<double> all, int start, int length) =>
        MemoryMarshal.Cast<double, Vector<double>>(all.Slice(start, length));

    static double Max(Vector<double> lanes)
    {
        double max = double.NegativeInfinity;
        for (int l = 0; l < Vector<double>.Count; l++) max = Math.Max(max, lanes[l]);
        return max;
    }

    /// <summary>max + log Σ exp(x − max) over the lanes of <paramref name="values"/>; −∞ lanes add nothing.</summary>
    static double LogSumExp(ReadOnlySpan<Vector<double>> values, double max)
    {
        var shift = new Vector<double>(max);
        var sum = Vector<double>.Zero;
        foreach (var v in values) sum += Vector.Exp(v - shift);
        return max + Math.Log(Vector.Sum(sum));
    }
}
