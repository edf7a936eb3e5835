using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// The whole objective and its gradient in double precision, straight from the formulas (the README's objective):
/// the reference for cases the PyTorch fixtures do not cover (M ≠ B, no hidden layers, odd sizes).
/// Parameters are by PyTorch name.
/// </summary>
/// <param name="obsLogVar">The Gaussian's log-variance at full precision (a fixture's value); default: the spec's float.</param>
/// <param name="klWeight">The KL term's weight (a warm-up's); default: the objective's 1 − α.</param>
/// <remarks>
/// Under free bits (<see cref="ObjectiveSpec.FreeBits"/> = λ) the loss's KL term is Σⱼ max(λ, mⱼ) of the per-dimension
/// batch means mⱼ and its gradient reaches only the dimensions with mⱼ &gt; λ; <see cref="Result.Kl"/> stays Σⱼ mⱼ.
/// </remarks>
internal sealed class ReferenceVae(ModelSpec spec, ObjectiveSpec objective, double? obsLogVar = null, double? klWeight = null)
{
    readonly double obsLogVar = obsLogVar ?? spec.ObsLogVar;
    readonly double klWeight = klWeight ?? objective.KlWeight;

    public sealed record Result(double Recon, double Kl, double Mmd, double Loss, double[] Mu, double[] LogVar, double[] Z,
        double[] Output, Dictionary<string, double[]> Grads);

    public Result Evaluate(IReadOnlyDictionary<string, double[]> p, double[] x, double[] eps, double[] prior, int batch)
    {
        int k = spec.LatentDim, d = spec.InputDim, m = prior.Length / k;
        var grads = new Dictionary<string, double[]>();

        // Encoder: hidden layers, then the two heads on the last hidden output (or x).
        var (h, encPre, encIn, encSizes) = Stack("encoder", spec.EncoderHidden, x, d, batch, p);
        int width = encSizes[^1];
        var mu = Reference.Linear(h, p["encoder.mu.weight"], p["encoder.mu.bias"], batch, width, k);
        var lv = Reference.Linear(h, p["encoder.logvar.weight"], p["encoder.logvar.bias"], batch, width, k);
        var z = new double[batch * k];
        var klMeans = new double[k];
        double kl = 0;
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = mu[i] + Math.Exp(0.5 * lv[i]) * eps[i];
            double element = 0.5 * (mu[i] * mu[i] + Math.Exp(lv[i]) - 1 - lv[i]);
            kl += element;
            klMeans[i % k] += element / batch;
        }
        kl /= batch;
        double freeBits = objective.FreeBits;
        double klObjective = freeBits > 0 ? klMeans.Sum(m => Math.Max(freeBits, m)) : kl;
        // The KL's gradient weight per dimension: the clamp's derivative is 0 where the batch mean is at or below λ.
        var klScale = klMeans.Select(m => freeBits > 0 && m <= freeBits ? 0.0 : this.klWeight).ToArray();

        // Decoder.
        var (g, decPre, decIn, decSizes) = Stack("decoder", spec.DecoderHidden, z, k, batch, p);
        var output = Reference.Linear(g, p["decoder.out.weight"], p["decoder.out.bias"], batch, decSizes[^1], d);

        double recon = 0;
        var dOut = new double[output.Length];
        double precision = Math.Exp(-obsLogVar);
        for (int i = 0; i < output.Length; i++)
        {
            if (spec.Likelihood == Likelihood.Bernoulli)
            {
                recon += Reference.Softplus(output[i]) - x[i] * output[i];
                dOut[i] = (Reference.Sigmoid(output[i]) - x[i]) / batch;
            }
            else
            {
                double r = output[i] - x[i];
                recon += 0.5 * (r * r * precision + obsLogVar + Math.Log(2 * Math.PI));
                dOut[i] = r * precision / batch;
            }
        }
        recon /= batch;
        var (mmd, dMmd) = Reference.Mmd(z, batch, prior, m, k, objective.Kernel, objective.KernelParameter,
            objective.Estimator == MmdEstimator.Unbiased);
        double loss = recon + this.klWeight * klObjective + objective.MmdWeight * mmd;

        // Backward through the decoder to z.
        var dz = Backward("decoder", "decoder.out", spec.DecoderHidden, decPre, decIn, decSizes, g, dOut, batch, d, p, grads);
        var dMu = new double[mu.Length];
        var dLv = new double[lv.Length];
        for (int i = 0; i < dz.Length; i++)
        {
            double gz = dz[i] + objective.MmdWeight * dMmd[i];
            dMu[i] = gz + klScale[i % k] * mu[i] / batch;
            dLv[i] = gz * eps[i] * 0.5 * Math.Exp(0.5 * lv[i]) + klScale[i % k] * 0.5 * (Math.Exp(lv[i]) - 1) / batch;
        }
        var (dhMu, dwMu, dbMu) = Reference.LinearBackward(dMu, h, p["encoder.mu.weight"], batch, width, k);
        var (dhLv, dwLv, dbLv) = Reference.LinearBackward(dLv, h, p["encoder.logvar.weight"], batch, width, k);
        grads["encoder.mu.weight"] = dwMu; grads["encoder.mu.bias"] = dbMu;
        grads["encoder.logvar.weight"] = dwLv; grads["encoder.logvar.bias"] = dbLv;
        var dh = dhMu.Zip(dhLv, (a, b) => a + b).ToArray();
        BackwardHidden("encoder", spec.EncoderHidden, encPre, encIn, encSizes, dh, batch, p, grads);

        return new Result(recon, kl, mmd, loss, mu, lv, z, output, grads);
    }

    /// <summary>Hidden layers act(in·Wᵀ + b): their outputs, pre-activations and inputs, and the widths.</summary>
    (double[] Out, List<double[]> Pre, List<double[]> In, List<int> Sizes) Stack(
        string prefix, IReadOnlyList<int> hidden, double[] input, int width, int batch, IReadOnlyDictionary<string, double[]> p)
    {
        var pre = new List<double[]>();
        var ins = new List<double[]>();
        var sizes = new List<int> { width };
        var h = input;
        for (int i = 0; i < hidden.Count; i++)
        {
            ins.Add(h);
            var a = Reference.Linear(h, p[$"{prefix}.{i}.weight"], p[$"{prefix}.{i}.bias"], batch, sizes[^1], hidden[i]);
            pre.Add(a);
            h = a.Select(v => Reference.Act(v, spec.Activation)).ToArray();
            sizes.Add(hidden[i]);
        }
        return (h, pre, ins, sizes);
    }

    double[] Backward(string prefix, string outName, IReadOnlyList<int> hidden, List<double[]> pre, List<double[]> ins,
        List<int> sizes, double[] last, double[] dOut, int batch, int outWidth, IReadOnlyDictionary<string, double[]> p,
        Dictionary<string, double[]> grads)
    {
        var (dLast, dw, db) = Reference.LinearBackward(dOut, last, p[outName + ".weight"], batch, sizes[^1], outWidth);
        grads[outName + ".weight"] = dw;
        grads[outName + ".bias"] = db;
        return BackwardHidden(prefix, hidden, pre, ins, sizes, dLast, batch, p, grads);
    }

    double[] BackwardHidden(string prefix, IReadOnlyList<int> hidden, List<double[]> pre, List<double[]> ins, List<int> sizes,
        double[] dOutput, int batch, IReadOnlyDictionary<string, double[]> p, Dictionary<string, double[]> grads)
    {
        var d = dOutput;
        for (int i = hidden.Count - 1; i >= 0; i--)
        {
            var dPre = d.Select((v, j) => v * Reference.ActGrad(pre[i][j], spec.Activation)).ToArray();
            var (dIn, dw, db) = Reference.LinearBackward(dPre, ins[i], p[$"{prefix}.{i}.weight"], batch, sizes[i], hidden[i]);
            grads[$"{prefix}.{i}.weight"] = dw;
            grads[$"{prefix}.{i}.bias"] = db;
            d = dIn;
        }
        return d;
    }
}
