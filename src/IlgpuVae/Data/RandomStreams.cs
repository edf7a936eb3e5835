namespace IlgpuVae.Data;

/// <summary>
/// The independent streams of the counter-based generator: a draw is keyed by (seed, stream, step), so
/// ε, the prior samples, the binarization and the initialization never share numbers.
/// </summary>
internal static class RandomStreams
{
    public const ulong Initialization = 1, Epsilon = 2, Prior = 3, Binarization = 4, Shuffle = 5, Evaluation = 6, Pictures = 7;

    /// <summary>The step number of the <see cref="Binarization"/> stream reserved for evaluated data (training uses the epoch).</summary>
    public const ulong EvaluationBinarization = ulong.MaxValue;

    /// <summary>The step number of the <see cref="Prior"/> stream reserved for the evaluation's aggregate MMD.</summary>
    public const ulong AggregateMmdPrior = ulong.MaxValue;

    /// <summary>
    /// Sub-streams of <see cref="Evaluation"/>: the loss terms' noise, the posterior codes, the importance draws, and
    /// a flow posterior's Monte Carlo means, the inference gaps' optimization draws and their ELBOs' draws.
    /// </summary>
    public const ulong EvaluationTerms = 0, EvaluationCodes = 1, EvaluationImportance = 2, EvaluationMeans = 3, EvaluationGapSteps = 4, EvaluationGapElbo = 5;
}
