namespace IlgpuVae.Evaluation;

/// <summary>
/// The inference gap split in two (Cremer, Li &amp; Duvenaud, 2018), in nats per image, on the first <see cref="Images"/>
/// evaluated images: log p(x) − ELBO(q) = <see cref="ApproximationGap"/> (log p̂(x) − ELBO(q*), what the family of q
/// cannot reach) + <see cref="AmortizationGap"/> (ELBO(q*) − ELBO(q), what the encoder leaves behind), q the encoder's
/// posterior and q* the best of the same family per image, found by Adam from q. Each estimate comes with its Monte
/// Carlo standard error (the …Error properties): the spread of the draws given these images, not of the images.
/// </summary>
/// <param name="Images">The images the gaps were measured on.</param>
/// <param name="Steps">The Adam steps taken (the largest over the passes).</param>
/// <param name="LogLikelihood">Mean log p̂(x), the IWAE estimate with the evaluation's K.</param>
/// <param name="LogLikelihoodError">Its standard error by the delta method, from each image's normalized weights.</param>
/// <param name="AmortizedElbo">Mean ELBO of the encoder's q.</param>
/// <param name="AmortizedElboError">Its standard error.</param>
/// <param name="OptimizedElbo">Mean ELBO of the optimized q*.</param>
/// <param name="OptimizedElboError">Its standard error.</param>
/// <param name="ApproximationGap">log p̂(x) − ELBO(q*).</param>
/// <param name="ApproximationGapError">Its standard error (the two estimates' draws are independent).</param>
/// <param name="AmortizationGap">ELBO(q*) − ELBO(q), both with the same ε per image and draw.</param>
/// <param name="AmortizationGapError">Its standard error, from the paired differences.</param>
public sealed record InferenceGapResult(
    int Images,
    int Steps,
    double LogLikelihood,
    double LogLikelihoodError,
    double AmortizedElbo,
    double AmortizedElboError,
    double OptimizedElbo,
    double OptimizedElboError,
    double ApproximationGap,
    double ApproximationGapError,
    double AmortizationGap,
    double AmortizationGapError);
