namespace IlgpuVae.Disentanglement;

/// <summary>
/// DCI (Eastwood and Williams 2018), as disentanglement_lib's <c>dci</c>: per factor a gradient-boosted trees classifier
/// from the whole code; the importance matrix R [codes × factors] holds each tree ensemble's feature importances.
/// Disentanglement = Σᵢ ρᵢ (1 − H_F(Rᵢ.)), completeness = Σⱼ ρⱼ (1 − H_K(R.ⱼ)) with the entropies in base F (factors) and
/// K (codes) of the normalized rows and columns (1e-11 added to each entry, as scipy's entropy is given), and ρ each row's or column's share of
/// ΣR; informativeness = the classifiers' mean accuracy on the training and the test points.
/// </summary>
internal static class Dci
{
    /// <summary>The three scores and the importance matrix.</summary>
    public static (double Disentanglement, double Completeness, double InformativenessTrain, double InformativenessTest, double[,] Importance)
        Score(LabelledCodes train, LabelledCodes test, Classifiers classifiers)
    {
        var importance = new double[train.Dim, train.FactorCount];
        double accuracyTrain = 0, accuracyTest = 0;
        for (int j = 0; j < train.FactorCount; j++)
        {
            int[] yTrain = train.FactorColumn(j), yTest = test.FactorColumn(j);
            var model = classifiers.BoostedTrees(train.Codes, train.Dim, yTrain, train.Classes[j]);
            for (int i = 0; i < train.Dim; i++) importance[i, j] = Math.Abs(model.Importances[i]);
            accuracyTrain += Classifiers.Accuracy(model.Predict(train.Codes), yTrain);
            accuracyTest += Classifiers.Accuracy(model.Predict(test.Codes), yTest);
        }
        return (Disentanglement(importance), Completeness(importance), accuracyTrain / train.FactorCount, accuracyTest / train.FactorCount, importance);
    }

    /// <summary>Disentanglement from the [codes × factors] importance matrix.</summary>
    public static double Disentanglement(double[,] r)
    {
        int codes = r.GetLength(0), factors = r.GetLength(1);
        var weights = Shares(r, byRow: true);
        double score = 0;
        for (int i = 0; i < codes; i++)
            score += weights[i] * (1 - Entropy(Enumerable.Range(0, factors).Select(j => r[i, j]), factors));
        return score;
    }

    /// <summary>Completeness from the [codes × factors] importance matrix.</summary>
    public static double Completeness(double[,] r)
    {
        int codes = r.GetLength(0), factors = r.GetLength(1);
        var weights = Shares(r, byRow: false);
        double score = 0;
        for (int j = 0; j < factors; j++)
            score += weights[j] * (1 - Entropy(Enumerable.Range(0, codes).Select(i => r[i, j]), codes));
        return score;
    }

    /// <summary>Each row's (or column's) share of the matrix's sum; equal shares for a matrix of zeros, as disentanglement_lib gives.</summary>
    static double[] Shares(double[,] r, bool byRow)
    {
        int n = r.GetLength(byRow ? 0 : 1), m = r.GetLength(byRow ? 1 : 0);
        var sums = new double[n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < m; b++) sums[a] += byRow ? r[a, b] : r[b, a];
        double total = sums.Sum();
        return total == 0 ? sums.Select(_ => 1.0 / n).ToArray() : sums.Select(s => s / total).ToArray();
    }

    /// <summary>scipy.stats.entropy(p + 1e-11, base): the entropy of the normalized values, in the given base.</summary>
    static double Entropy(IEnumerable<double> values, int logBase)
    {
        var p = values.Select(v => v + 1e-11).ToArray();
        double sum = p.Sum(), h = 0;
        foreach (double v in p) h -= v / sum * Math.Log(v / sum);
        return h / Math.Log(logBase);
    }
}
