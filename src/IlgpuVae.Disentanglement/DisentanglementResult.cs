using IlgpuVae.Metrics;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// The disentanglement metrics of a model's posterior means against the data's factors, as disentanglement_lib defines
/// them (see <see cref="DisentanglementMetrics"/>); every score lies in [0, 1].
/// </summary>
public sealed record DisentanglementResult
{
    /// <summary>BetaVAE score: the logistic regression's accuracy on its training and evaluation points.</summary>
    public (double Train, double Eval) BetaVae { get; init; }
    /// <summary>FactorVAE score: the majority vote's accuracy on its training and evaluation votes.</summary>
    public (double Train, double Eval) FactorVae { get; init; }
    /// <summary>The code dimensions the FactorVAE score counted as active (standard deviation ≥ 0.05).</summary>
    public int FactorVaeActiveDims { get; init; }
    /// <summary>The mutual information gap.</summary>
    public double Mig { get; init; }
    /// <summary>DCI disentanglement.</summary>
    public double DciDisentanglement { get; init; }
    /// <summary>DCI completeness.</summary>
    public double DciCompleteness { get; init; }
    /// <summary>DCI informativeness: the trees' mean accuracy on the training and test points.</summary>
    public (double Train, double Test) DciInformativeness { get; init; }
    /// <summary>The SAP score.</summary>
    public double Sap { get; init; }
    /// <summary>Modularity.</summary>
    public double Modularity { get; init; }
    /// <summary>Explicitness: the mean one-vs-rest ROC AUC on the training and test points.</summary>
    public (double Train, double Test) Explicitness { get; init; }
    /// <summary>I(zᵢ; vⱼ) in nats, [code dimensions, factors], on the training points (MIG's and modularity's matrix).</summary>
    public double[,] MutualInformation { get; init; } = new double[0, 0];
    /// <summary>Each factor's entropy in nats on the training points.</summary>
    public double[] FactorEntropy { get; init; } = [];
    /// <summary>The factors' names, in the order of <see cref="MutualInformation"/>'s columns.</summary>
    public IReadOnlyList<string> FactorNames { get; init; } = [];
    /// <summary>Seconds the metrics took, encoding included.</summary>
    public double Seconds { get; init; }

    /// <summary>The numbers by their eval.json keys (beta_vae_train … explicitness_test, disentanglement_seconds).</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        [MetricKey.BetaVaeTrain] = BetaVae.Train, [MetricKey.BetaVaeEval] = BetaVae.Eval,
        [MetricKey.FactorVaeTrain] = FactorVae.Train, [MetricKey.FactorVaeEval] = FactorVae.Eval,
        [MetricKey.FactorVaeActiveDims] = FactorVaeActiveDims, [MetricKey.Mig] = Mig,
        [MetricKey.DciDisentanglement] = DciDisentanglement, [MetricKey.DciCompleteness] = DciCompleteness,
        [MetricKey.DciInformativenessTrain] = DciInformativeness.Train, [MetricKey.DciInformativenessTest] = DciInformativeness.Test,
        [MetricKey.Sap] = Sap, [MetricKey.Modularity] = Modularity,
        [MetricKey.ExplicitnessTrain] = Explicitness.Train, [MetricKey.ExplicitnessTest] = Explicitness.Test,
        [MetricKey.DisentanglementSeconds] = Seconds,
    };

    /// <summary>For each code dimension, the factor it carries most information about and that information (nats); -1 and 0 for none.</summary>
    public (int Factor, double Nats)[] BestFactors()
    {
        int codes = MutualInformation.GetLength(0), factors = MutualInformation.GetLength(1);
        var best = new (int, double)[codes];
        for (int i = 0; i < codes; i++)
        {
            best[i] = (-1, 0);
            for (int j = 0; j < factors; j++)
                if (MutualInformation[i, j] > best[i].Item2) best[i] = (j, MutualInformation[i, j]);
        }
        return best;
    }
}
