namespace IlgpuVae.Metrics;

/// <summary>
/// The keys of metrics.jsonl and eval.json, each declared once with what it measures — for the files, the messages that
/// name a bad value, and the docs. The keys other tools rely on (DESIGN's contracts) keep their names.
/// </summary>
internal static class MetricKey
{
    public const string Epoch = "epoch", Step = "step";
    public const string TrainLoss = "train_loss", TrainRecon = "train_recon", TrainKl = "train_kl", TrainMmd = "train_mmd", TrainNegElbo = "train_neg_elbo";
    public const string TestLoss = "test_loss", TestRecon = "test_recon", TestKl = "test_kl", TestMmd = "test_mmd", TestNegElbo = "test_neg_elbo";
    public const string Seconds = "seconds", ImagesPerSecond = "images_per_second", KlWeight = "kl_weight";
    public const string RssMb = "rss_mb", ManagedMb = "managed_mb", Replicas = "replicas", ExchangeSeconds = "exchange_seconds";
    public const string IwaeNll = "iwae_nll", IwaeK = "iwae_k", BitsPerDim = "bits_per_dim", Mi = "mi", MiImages = "mi_images";
    public const string ActiveUnits = "active_units", MmdAggregate = "mmd_aggregate", Kl = "kl", Images = "images";
    public const string KlPerDim = "kl_per_dim", MuVariance = "mu_variance", CheckpointEpoch = "checkpoint_epoch", CheckpointStep = "checkpoint_step";
    // β-TC-VAE's decomposition of the KL: in metrics.jsonl for that objective (minibatch-weighted, as its loss takes them) …
    public const string TrainIndexCodeMi = "train_index_code_mi", TrainTotalCorrelation = "train_total_correlation", TrainDimensionWiseKl = "train_dimension_wise_kl";
    public const string TestIndexCodeMi = "test_index_code_mi", TestTotalCorrelation = "test_total_correlation", TestDimensionWiseKl = "test_dimension_wise_kl";
    // … and in eval.json for any model with a Gaussian posterior (the evaluated set as the mixture).
    public const string IndexCodeMi = "index_code_mi", TotalCorrelation = "total_correlation", DimensionWiseKl = "dimension_wise_kl";

    /// <summary>The inference gaps (<c>eval --gaps</c>), each with its Monte Carlo standard error (…_se); null when not measured.</summary>
    public const string ApproximationGap = "approximation_gap", ApproximationGapSe = "approximation_gap_se";
    /// <summary>ELBO(q*) − ELBO(q), and its standard error.</summary>
    public const string AmortizationGap = "amortization_gap", AmortizationGapSe = "amortization_gap_se";
    /// <summary>The ELBOs of the encoder's q and the optimized q*, and log p̂(x), on the gaps' images.</summary>
    public const string ElboAmortized = "elbo_amortized", ElboAmortizedSe = "elbo_amortized_se", ElboOptimized = "elbo_optimized", ElboOptimizedSe = "elbo_optimized_se";
    /// <summary>log p̂(x) on the gaps' images, their count and the optimization's steps.</summary>
    public const string GapLogPx = "gap_log_px", GapLogPxSe = "gap_log_px_se", GapImages = "gap_images", GapSteps = "gap_steps";

    public const string BetaVaeTrain = "beta_vae_train", BetaVaeEval = "beta_vae_eval", FactorVaeTrain = "factor_vae_train", FactorVaeEval = "factor_vae_eval";
    public const string FactorVaeActiveDims = "factor_vae_active_dims", Mig = "mig", DciDisentanglement = "dci_disentanglement", DciCompleteness = "dci_completeness";
    public const string DciInformativenessTrain = "dci_informativeness_train", DciInformativenessTest = "dci_informativeness_test", Sap = "sap";
    public const string Modularity = "modularity", ExplicitnessTrain = "explicitness_train", ExplicitnessTest = "explicitness_test";
    public const string DisentanglementSeconds = "disentanglement_seconds";

    /// <summary>The disentanglement metrics of <c>eval --disentanglement</c>, in the order eval.json and the table give them.</summary>
    public static readonly IReadOnlyList<string> Disentanglement =
    [
        BetaVaeTrain, BetaVaeEval, FactorVaeTrain, FactorVaeEval, FactorVaeActiveDims, Mig, DciDisentanglement, DciCompleteness,
        DciInformativenessTrain, DciInformativenessTest, Sap, Modularity, ExplicitnessTrain, ExplicitnessTest, DisentanglementSeconds,
    ];

    /// <summary>The inference gaps' keys (<c>eval --gaps</c>), null in eval.json when the gaps were not measured.</summary>
    public static readonly IReadOnlyList<string> InferenceGaps =
    [
        ApproximationGap, ApproximationGapSe, AmortizationGap, AmortizationGapSe, ElboAmortized, ElboAmortizedSe,
        ElboOptimized, ElboOptimizedSe, GapLogPx, GapLogPxSe, GapImages, GapSteps,
    ];

    /// <summary>The evaluation's keys that <c>--eval-every</c> adds to an epoch's metrics.</summary>
    public static readonly IReadOnlyList<string> EpochEvaluation = [IwaeNll, IwaeK, Mi, ActiveUnits, MmdAggregate, Kl];

    static readonly Dictionary<string, string> Meanings = new()
    {
        [TrainLoss] = "the training loss", [TrainRecon] = "the training reconstruction term", [TrainKl] = "the training KL term",
        [TrainMmd] = "the training MMD²", [TrainNegElbo] = "the training −ELBO",
        [TestLoss] = "the test loss", [TestRecon] = "the test reconstruction term", [TestKl] = "the test KL term",
        [TestMmd] = "the test MMD²", [TestNegElbo] = "the test −ELBO", [IwaeNll] = "the importance-weighted NLL",
        [BitsPerDim] = "the bits per dimension", [Mi] = "the mutual information", [MmdAggregate] = "the aggregate MMD²",
        [Kl] = "the KL", [KlPerDim] = "the KL per dimension", [MuVariance] = "the variance of the posterior means",
        [ApproximationGap] = "the approximation gap", [AmortizationGap] = "the amortization gap",
        [ElboAmortized] = "the amortized posterior's ELBO", [ElboOptimized] = "the optimized posterior's ELBO", [GapLogPx] = "the gaps' log p(x)",
        [Seconds] = "the epoch's time", [ImagesPerSecond] = "the throughput",
        [TrainIndexCodeMi] = "the training index-code MI", [TrainTotalCorrelation] = "the training total correlation",
        [TrainDimensionWiseKl] = "the training dimension-wise KL", [TestIndexCodeMi] = "the test index-code MI",
        [TestTotalCorrelation] = "the test total correlation", [TestDimensionWiseKl] = "the test dimension-wise KL",
        [IndexCodeMi] = "the index-code MI", [TotalCorrelation] = "the total correlation", [DimensionWiseKl] = "the dimension-wise KL",
        [BetaVaeTrain] = "BetaVAE score (train)", [BetaVaeEval] = "BetaVAE score (eval)", [FactorVaeTrain] = "FactorVAE score (train)",
        [FactorVaeEval] = "FactorVAE score (eval)", [FactorVaeActiveDims] = "FactorVAE active dimensions", [Mig] = "MIG",
        [DciDisentanglement] = "DCI disentanglement", [DciCompleteness] = "DCI completeness", [DciInformativenessTrain] = "DCI informativeness (train)",
        [DciInformativenessTest] = "DCI informativeness (test)", [Sap] = "SAP", [Modularity] = "modularity",
        [ExplicitnessTrain] = "explicitness (train)", [ExplicitnessTest] = "explicitness (test)", [DisentanglementSeconds] = "disentanglement metrics' time (s)",
    };

    /// <summary>What <paramref name="key"/> measures, in words ("the test −ELBO"); the key itself where none is declared.</summary>
    public static string Meaning(string key) => Meanings.GetValueOrDefault(key, key);
}
