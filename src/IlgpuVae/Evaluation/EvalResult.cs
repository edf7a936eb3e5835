using IlgpuVae.Metrics;
using IlgpuVae.Model;

namespace IlgpuVae.Evaluation;

/// <summary>
/// A model's numbers on a data set. NLLs are in nats per image; bits per dimension = NLL / (d·ln 2).
/// <see cref="MutualInformation"/> is I_q(x; z) with q(z) the mixture of the evaluated posteriors — all
/// <see cref="Images"/> of them, or for an IAF posterior the first <see cref="MiImages"/> — so at most log of that count.
/// </summary>
public sealed record EvalResult(
    LossTerms Terms,
    double NegativeElbo,
    double IwaeNll,
    int IwaeK,
    double MutualInformation,
    int ActiveUnits,
    double[] MuVariance,
    double[] KlPerDimension,
    double MmdAggregate,
    int Images,
    int Dim)
{
    /// <summary>The images the mutual information was estimated on (all but for an IAF posterior, whose estimate is quadratic).</summary>
    public int MiImages { get; init; } = Images;

    /// <summary>
    /// β-TC-VAE's decomposition of the KL over all <see cref="Images"/> (their posteriors' mixture as q(z)), for any model with
    /// a Gaussian posterior; null for an IAF, whose q(z|x) has no closed-form marginal per dimension.
    /// </summary>
    public KlDecomposition? KlDecomposition { get; init; }
    /// <summary>The approximation and amortization gaps with their errors, when measured (<see cref="EvalOptions.GapImages"/>); else null.</summary>
    public InferenceGapResult? Gaps { get; init; }
    /// <summary>
    /// The disentanglement metrics by their eval.json keys (beta_vae_train … explicitness_test), when they were measured
    /// (<c>eval --disentanglement</c>, the IlgpuVae.Disentanglement package); null otherwise.
    /// </summary>
    public IReadOnlyDictionary<string, double>? Disentanglement { get; init; }

    /// <summary>KL(q(z|x) ‖ p(z)) in nats, averaged over the images: the sum of <see cref="KlPerDimension"/>.</summary>
    public double Kl => KlPerDimension.Sum();
    /// <summary>The IWAE NLL (the −ELBO when it was skipped) in bits per value of an image.</summary>
    public double BitsPerDim => (IwaeK > 0 ? IwaeNll : NegativeElbo) / (Dim * Math.Log(2));

    /// <summary>Every number by its eval.json key, the per-dimension arrays written out: "EvalResult { test_neg_elbo = 85.2, …, kl_per_dim = [0.31, 1.9] }".</summary>
    public override string ToString() =>
        $"EvalResult {{ {string.Join(", ", ToJson().Select(kv => $"{kv.Key} = {Show(kv.Value)}"))} }}";

    static string Show(object? value) => value switch
    {
        null => "null",
        double[] values => $"[{string.Join(", ", values.Select(v => Show(v)))}]",
        double v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>
    /// The eval.json object: the keys other tools rely on first (test_neg_elbo … kl), then the extras, then the
    /// disentanglement metrics when measured; iwae_nll is null when it was skipped (<see cref="IwaeK"/> 0), the
    /// inference gaps' keys when they were not measured.
    /// </summary>
    public Dictionary<string, object?> ToJson()
    {
        var json = Keys();
        foreach (var (key, value) in Disentanglement ?? new Dictionary<string, double>()) json[key] = value;
        return json;
    }

    Dictionary<string, object?> Keys() => new()
    {
        [MetricKey.TestNegElbo] = NegativeElbo,
        [MetricKey.IwaeNll] = IwaeK > 0 ? IwaeNll : null,
        [MetricKey.IwaeK] = IwaeK,
        [MetricKey.BitsPerDim] = BitsPerDim,
        [MetricKey.Mi] = MutualInformation,
        [MetricKey.MiImages] = MiImages,
        [MetricKey.ActiveUnits] = ActiveUnits,
        [MetricKey.MmdAggregate] = MmdAggregate,
        [MetricKey.Kl] = Kl,
        [MetricKey.TestRecon] = Terms.Recon,
        [MetricKey.TestMmd] = Terms.Mmd,
        [MetricKey.TestLoss] = Terms.Loss,
        [MetricKey.Images] = Images,
        [MetricKey.KlPerDim] = KlPerDimension,
        [MetricKey.MuVariance] = MuVariance,
        [MetricKey.IndexCodeMi] = KlDecomposition?.IndexCodeMi,
        [MetricKey.TotalCorrelation] = KlDecomposition?.TotalCorrelation,
        [MetricKey.DimensionWiseKl] = KlDecomposition?.DimensionWiseKl,
        [MetricKey.ApproximationGap] = Gaps?.ApproximationGap,
        [MetricKey.ApproximationGapSe] = Gaps?.ApproximationGapError,
        [MetricKey.AmortizationGap] = Gaps?.AmortizationGap,
        [MetricKey.AmortizationGapSe] = Gaps?.AmortizationGapError,
        [MetricKey.ElboAmortized] = Gaps?.AmortizedElbo,
        [MetricKey.ElboAmortizedSe] = Gaps?.AmortizedElboError,
        [MetricKey.ElboOptimized] = Gaps?.OptimizedElbo,
        [MetricKey.ElboOptimizedSe] = Gaps?.OptimizedElboError,
        [MetricKey.GapLogPx] = Gaps?.LogLikelihood,
        [MetricKey.GapLogPxSe] = Gaps?.LogLikelihoodError,
        [MetricKey.GapImages] = Gaps?.Images,
        [MetricKey.GapSteps] = Gaps?.Steps,
    };
}
