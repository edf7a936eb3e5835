namespace IlgpuVae.Disentanglement;

/// <summary>
/// The FactorVAE score (Kim and Mnih 2018), as disentanglement_lib's <c>factor_vae_score</c>: each code dimension's
/// variance over random points (ddof 1) standardizes it; dimensions whose standard deviation is below
/// <see cref="PruneThreshold"/> (disentanglement_lib's study setting) are collapsed and left out. Each point picks a
/// factor k, draws a batch with factor k held at one value, and votes for (k, the active dimension of least variance
/// relative to its global one — its index among the active dimensions, as disentanglement_lib counts it). The majority
/// vote classifier maps each dimension to the factor with most training votes; the score is the share of training and
/// evaluation votes it gets right. With no active dimension both are 0.
/// </summary>
internal static class FactorVaeScore
{
    /// <summary>Dimensions with a global standard deviation below this are collapsed (prune_dims.threshold = 0.05).</summary>
    public const double PruneThreshold = 0.05;

    /// <summary>Each dimension's variance over the codes (row-major, ddof 1).</summary>
    public static double[] Variances(float[] codes, int dim)
    {
        int n = codes.Length / dim;
        var mean = new double[dim];
        var variance = new double[dim];
        for (int r = 0; r < n; r++) for (int j = 0; j < dim; j++) mean[j] += codes[r * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int r = 0; r < n; r++)
            for (int j = 0; j < dim; j++)
            {
                double d = codes[r * dim + j] - mean[j];
                variance[j] += d * d;
            }
        for (int j = 0; j < dim; j++) variance[j] /= n - 1;
        return variance;
    }

    /// <summary>The active dimensions: those whose standard deviation reaches <see cref="PruneThreshold"/>.</summary>
    public static int[] ActiveDimensions(double[] globalVariances) =>
        Enumerable.Range(0, globalVariances.Length).Where(j => Math.Sqrt(globalVariances[j]) >= PruneThreshold).ToArray();

    /// <summary>A batch's vote: the index, among <paramref name="active"/>, of the dimension of least variance relative to its global one.</summary>
    public static int Vote(float[] batchCodes, int dim, double[] globalVariances, int[] active)
    {
        var local = Variances(batchCodes, dim);
        int best = 0;
        for (int a = 1; a < active.Length; a++)
            if (local[active[a]] / globalVariances[active[a]] < local[active[best]] / globalVariances[active[best]]) best = a;
        return best;
    }

    /// <summary>The training and evaluation accuracies of the majority vote classifier, from [factors × dims] vote counts.</summary>
    public static (double Train, double Eval) Score(long[,] trainVotes, long[,] evalVotes)
    {
        int factors = trainVotes.GetLength(0), dims = trainVotes.GetLength(1);
        var classifier = new int[dims];
        for (int d = 0; d < dims; d++)
            for (int f = 1; f < factors; f++)
                if (trainVotes[f, d] > trainVotes[classifier[d], d]) classifier[d] = f;
        return (Share(trainVotes, classifier), Share(evalVotes, classifier));
    }

    static double Share(long[,] votes, int[] classifier)
    {
        long right = 0, all = 0;
        for (int d = 0; d < votes.GetLength(1); d++)
        {
            right += votes[classifier[d], d];
            for (int f = 0; f < votes.GetLength(0); f++) all += votes[f, d];
        }
        return all == 0 ? 0 : right / (double)all;
    }
}
