namespace IlgpuVae.Disentanglement;

/// <summary>
/// Discrete mutual information and entropy in nats, as scikit-learn's <c>mutual_info_score</c> computes them from the
/// contingency table, and disentanglement_lib's histogram discretizer (<c>np.histogram</c> edges, <c>np.digitize</c>).
/// </summary>
internal static class Information
{
    /// <summary>
    /// Each value's bin among <paramref name="bins"/> equal bins between the values' minimum and maximum, numbered 1 …
    /// bins as <c>np.digitize(x, np.histogram(x, bins)[1][:-1])</c> numbers them (the maximum falls in the last bin).
    /// Constant values get numpy's range of ±0.5 around the value.
    /// </summary>
    public static int[] HistogramBins(double[] values, int bins)
    {
        double min = values.Min(), max = values.Max();
        if (min == max) { min -= 0.5; max += 0.5; }
        // np.linspace: start + i·step, step = (stop − start) / bins.
        double step = (max - min) / bins;
        var edges = new double[bins];
        for (int i = 0; i < bins; i++) edges[i] = min + i * step;
        var result = new int[values.Length];
        for (int n = 0; n < values.Length; n++)
        {
            int count = 0;
            while (count < bins && edges[count] <= values[n]) count++;
            result[n] = count;
        }
        return result;
    }

    /// <summary>I(a; b) in nats of two labelings of the same points: Σ p(a, b) log(p(a, b) / (p(a) p(b))).</summary>
    public static double MutualInformation(int[] a, int[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Labelings of {a.Length} and {b.Length} points.");
        var joint = new Dictionary<(int, int), int>();
        var countA = new Dictionary<int, int>();
        var countB = new Dictionary<int, int>();
        for (int i = 0; i < a.Length; i++)
        {
            joint[(a[i], b[i])] = joint.GetValueOrDefault((a[i], b[i])) + 1;
            countA[a[i]] = countA.GetValueOrDefault(a[i]) + 1;
            countB[b[i]] = countB.GetValueOrDefault(b[i]) + 1;
        }
        double n = a.Length, mi = 0;
        foreach (var ((x, y), c) in joint)
            mi += c / n * Math.Log(c * n / ((double)countA[x] * countB[y]));
        return Math.Max(0, mi);
    }

    /// <summary>H(a) in nats.</summary>
    public static double Entropy(int[] a) => MutualInformation(a, a);

    /// <summary>
    /// The [codes × factors] matrix of I(zᵢ; vⱼ): each code dimension discretized into <paramref name="bins"/> histogram
    /// bins (disentanglement_lib's <c>discrete_mutual_info</c> on <c>_histogram_discretize</c>).
    /// </summary>
    public static double[,] Matrix(LabelledCodes points, int bins)
    {
        var m = new double[points.Dim, points.FactorCount];
        var factors = Enumerable.Range(0, points.FactorCount).Select(points.FactorColumn).ToArray();
        for (int i = 0; i < points.Dim; i++)
        {
            var binned = HistogramBins(points.Column(i), bins);
            for (int j = 0; j < points.FactorCount; j++) m[i, j] = MutualInformation(factors[j], binned);
        }
        return m;
    }
}
