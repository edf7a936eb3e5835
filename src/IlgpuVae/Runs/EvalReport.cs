using System.Globalization;
using System.Text.Json;
using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Images;
using IlgpuVae.IO;
using IlgpuVae.Metrics;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>eval.json, the per-dimension KL chart and the printed table of an <see cref="EvalResult"/>.</summary>
internal static class EvalReport
{
    public const string KlChart = "kl_per_dim.png";

    /// <summary>
    /// Evaluates a trained model on <paramref name="test"/> with the run's objective, seed and binarization; a number
    /// that is not finite throws <see cref="NumericalFaultException"/> naming its estimator.
    /// </summary>
    public static EvalResult Run(TrainedModel trained, ImageSet test, EvalOptions options)
    {
        using var data = new DeviceDataSet(trained.Device, test.Pixels, test.Count, test.Dim);
        var result = Evaluator.Run(trained.Model, trained.Config.Objective(), data,
            options with { Seed = (ulong)trained.Config.Seed }, trained.Config.DynamicBinarization);
        NumericalGuard.RequireFinite(result.ToJson(), $"The evaluation of {test.Count} images failed", "Nothing was written.");
        return result;
    }

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// eval.json: the result's keys, then checkpoint_epoch and checkpoint_step — which checkpoint was evaluated, as a run
    /// may go on saving newer ones (null where the weights do not say).
    /// </summary>

    public static void Write(string path, EvalResult result, (int? Epoch, long? Step) checkpoint = default)
    {
        var json = result.ToJson();
        json[MetricKey.CheckpointEpoch] = checkpoint.Epoch;
        json[MetricKey.CheckpointStep] = checkpoint.Step;
        AtomicWrite.ReplaceText(path, JsonSerializer.Serialize(json, Indented));
    }

    /// <summary>A bar per latent dimension: its mean KL(q(zⱼ|x) ‖ N(0, 1)) over the evaluated images.</summary>
    public static void WriteKlChart(string path, EvalResult result) =>
        Plots.Bars(path, result.KlPerDimension.Select((_, j) => $"z{j}").ToArray(), result.KlPerDimension,
            $"KL per latent dimension ({result.ActiveUnits} of {result.KlPerDimension.Length} active)", "nats");

    /// <summary>The table <c>eval</c> prints.</summary>
    public static IEnumerable<string> Table(EvalResult r, (int? Epoch, long? Step) checkpoint = default)
    {
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        if (checkpoint.Step is long step)
            yield return $"{"checkpoint",-26} {(checkpoint.Epoch is int e ? $"after epoch {e}, " : "")}optimizer step {step}";
        yield return $"{"images",-26} {r.Images}";
        yield return $"{"test −ELBO (nats)",-26} {F(r.NegativeElbo)}";
        yield return r.IwaeK > 0 ? $"{$"IWAE NLL, K = {r.IwaeK} (nats)",-26} {F(r.IwaeNll)}" : $"{"IWAE NLL",-26} skipped (--iwae-k 0)";
        yield return $"{"bits per dimension",-26} {F(r.BitsPerDim)}";
        yield return $"{"KL (nats)",-26} {F(r.Kl)}";
        yield return $"{"mutual information (nats)",-26} {F(r.MutualInformation)}  (at most log N = {F(Math.Log(r.MiImages))}" +
            (r.MiImages < r.Images ? $"; on the first {r.MiImages} images, as the flow is inverted for every pair: --mi-limit)" : ")");
        yield return r.KlDecomposition is { } d
            ? $"{"MI / TC / dimension-wise KL",-26} {F(d.IndexCodeMi)} / {F(d.TotalCorrelation)} / {F(d.DimensionWiseKl)}  (β-TC-VAE's decomposition of the KL)"
            : $"{"MI / TC / dimension-wise KL",-26} not estimated (an IAF's q(z|x) has no closed-form marginal per dimension)";
        yield return $"{"active units",-26} {r.ActiveUnits} of {r.KlPerDimension.Length}";
        yield return $"{"MMD² aggregate vs prior",-26} {r.MmdAggregate.ToString("G4", CultureInfo.InvariantCulture)}";
        yield return $"{"test recon / loss",-26} {F(r.Terms.Recon)} / {F(r.Terms.Loss)}";
        if (r.Disentanglement is { } scores)
            foreach (var key in MetricKey.Disentanglement)
                if (scores.TryGetValue(key, out double v))
                    yield return $"{MetricKey.Meaning(key),-26} {(key is MetricKey.FactorVaeActiveDims ? v.ToString(CultureInfo.InvariantCulture) : F(v))}";
        if (r.Gaps is not { } g) yield break;
        string E(double v, double error) => $"{F(v)} ± {F(error)}";
        yield return $"{$"inference gaps, {g.Images} images",-26} q* after {g.Steps} Adam steps; ± one Monte Carlo standard error";
        yield return $"{"  log p(x), IWAE (nats)",-26} {E(g.LogLikelihood, g.LogLikelihoodError)}";
        yield return $"{"  ELBO(q*) optimized",-26} {E(g.OptimizedElbo, g.OptimizedElboError)}";
        yield return $"{"  ELBO(q) amortized",-26} {E(g.AmortizedElbo, g.AmortizedElboError)}";
        yield return $"{"  approximation gap",-26} {E(g.ApproximationGap, g.ApproximationGapError)}  (log p̂(x) − ELBO(q*))";
        yield return $"{"  amortization gap",-26} {E(g.AmortizationGap, g.AmortizationGapError)}  (ELBO(q*) − ELBO(q))";
    }
}
