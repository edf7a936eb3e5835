namespace IlgpuVae.Disentanglement;

/// <summary>
/// The mutual information gap (Chen et al. 2018), as disentanglement_lib's <c>_compute_mig</c>: per factor vⱼ the gap
/// between the two largest I(zᵢ; vⱼ) over the code dimensions, divided by H(vⱼ), averaged over the factors. A factor
/// that takes one value among the points (H = 0, where disentanglement_lib divides by zero) is left out of the mean.
/// </summary>
internal static class Mig
{
    /// <summary>The score from the [codes × factors] mutual information matrix and each factor's entropy.</summary>
    public static double Score(double[,] mi, double[] entropy)
    {
        int codes = mi.GetLength(0), factors = mi.GetLength(1);
        if (codes < 2) throw new ArgumentException($"MIG compares the two most informative code dimensions; the code has {codes}.");
        var gaps = new List<double>();
        for (int j = 0; j < factors; j++)
        {
            if (!(entropy[j] > 0)) continue;
            var column = Enumerable.Range(0, codes).Select(i => mi[i, j]).OrderDescending().ToArray();
            gaps.Add((column[0] - column[1]) / entropy[j]);
        }
        return gaps.Count == 0 ? 0 : gaps.Average();
    }

    /// <summary>The entropy of each factor of <paramref name="points"/>.</summary>
    public static double[] Entropies(LabelledCodes points) =>
        Enumerable.Range(0, points.FactorCount).Select(j => Information.Entropy(points.FactorColumn(j))).ToArray();
}
