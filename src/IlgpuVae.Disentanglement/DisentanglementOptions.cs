using IlgpuVae.Settings;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// The sample sizes of the disentanglement metrics (<c>eval --disentanglement</c>); each option is declared on its property.
/// The defaults are disentanglement_lib's (its unsupervised study's metric configs: 20 bins, batches of 64, 10,000 images
/// for the FactorVAE variances) where they fit two cores, and a fifth of its 10,000 training and 5,000 test points
/// elsewhere: at its sizes the one-vs-rest classifiers (113 classes for sprites' five factors) took minutes.
/// </summary>
public sealed record DisentanglementOptions
{
    /// <summary>Points whose codes MIG uses, and on which DCI, SAP and explicitness train their classifiers.</summary>
    [Setting("--factor-train", "Disentanglement: points for MIG and for training DCI's, SAP's and explicitness' classifiers")]
    public int TrainPoints { get; init; } = 2000;
    /// <summary>Further points on which DCI, SAP and explicitness test their classifiers.</summary>
    [Setting("--factor-test", "Disentanglement: further points for testing DCI's, SAP's and explicitness' classifiers")]
    public int TestPoints { get; init; } = 1000;
    /// <summary>Histogram bins per code dimension for the mutual information of MIG and modularity.</summary>
    [Setting("--mig-bins", "Disentanglement: histogram bins per code dimension for MIG's and modularity's mutual information")]
    public int Bins { get; init; } = 20;
    /// <summary>Images per batch with one factor held fixed (BetaVAE and FactorVAE scores).</summary>
    [Setting("--score-batch", "Disentanglement: images per batch with one factor held fixed (BetaVAE and FactorVAE scores)")]
    public int ScoreBatch { get; init; } = 64;
    /// <summary>Training points (pairs of batches) of the BetaVAE score's classifier.</summary>
    [Setting("--betavae-train", "Disentanglement: training points (pairs of batches) of the BetaVAE score")]
    public int BetaVaeTrain { get; init; } = 2000;
    /// <summary>Evaluation points of the BetaVAE score.</summary>
    [Setting("--betavae-eval", "Disentanglement: evaluation points (pairs of batches) of the BetaVAE score")]
    public int BetaVaeEval { get; init; } = 1000;
    /// <summary>Training points (batches) of the FactorVAE score's majority vote.</summary>
    [Setting("--factorvae-train", "Disentanglement: training points (batches) of the FactorVAE score's majority vote")]
    public int FactorVaeTrain { get; init; } = 2000;
    /// <summary>Evaluation points of the FactorVAE score.</summary>
    [Setting("--factorvae-eval", "Disentanglement: evaluation points (batches) of the FactorVAE score")]
    public int FactorVaeEval { get; init; } = 1000;
    /// <summary>Images whose codes give the FactorVAE score's per-dimension variances.</summary>
    [Setting("--factorvae-variance", "Disentanglement: images for the FactorVAE score's per-dimension variances")]
    public int FactorVaeVariance { get; init; } = 10000;

    /// <summary>Returns the options, or throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public DisentanglementOptions Validate()
    {
        void AtLeast(int value, int least, string name, string why)
        {
            if (value < least) throw new ArgumentException($"DisentanglementOptions.{name} must be at least {least} ({why}); got {value}.");
        }
        AtLeast(TrainPoints, 2, nameof(TrainPoints), "MIG's histograms need two points");
        AtLeast(TestPoints, 1, nameof(TestPoints), "the classifiers are tested on one point or more");
        AtLeast(Bins, 2, nameof(Bins), "one bin carries no information");
        AtLeast(ScoreBatch, 2, nameof(ScoreBatch), "a batch's variance needs two images");
        AtLeast(BetaVaeTrain, 2, nameof(BetaVaeTrain), "a classifier needs two points");
        AtLeast(BetaVaeEval, 1, nameof(BetaVaeEval), "one point or more");
        AtLeast(FactorVaeTrain, 1, nameof(FactorVaeTrain), "one vote or more");
        AtLeast(FactorVaeEval, 1, nameof(FactorVaeEval), "one vote or more");
        AtLeast(FactorVaeVariance, 2, nameof(FactorVaeVariance), "a variance needs two images");
        return this;
    }
}
