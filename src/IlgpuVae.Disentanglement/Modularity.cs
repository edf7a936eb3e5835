namespace IlgpuVae.Disentanglement;

/// <summary>
/// Modularity and explicitness (Ridgeway and Mozer 2018), as disentanglement_lib's <c>modularity_explicitness</c>.
/// Modularity: per code dimension, 1 − (Σⱼ mᵢⱼ² − maxⱼ mᵢⱼ²) / (maxⱼ mᵢⱼ² · (F − 1)) over the mutual information
/// matrix m (0 for a dimension with no information), averaged. Explicitness: per factor, the one-vs-rest ROC AUC, averaged over
/// its classes, of a logistic regression from the whole code (standardized with the training points' mean and standard
/// deviation) to the factor; averaged over the factors, on the training and the test points.
/// </summary>
internal static class Modularity
{
    /// <summary>Modularity from the [codes × factors] mutual information matrix.</summary>
    public static double Score(double[,] mi)
    {
        int codes = mi.GetLength(0), factors = mi.GetLength(1);
        double total = 0;
        for (int i = 0; i < codes; i++)
        {
            double sum = 0, max = 0;
            for (int j = 0; j < factors; j++)
            {
                double sq = mi[i, j] * mi[i, j];
                sum += sq;
                max = Math.Max(max, sq);
            }
            total += max == 0 ? 0 : 1 - (sum - max) / (max * (factors - 1));
        }
        return total / codes;
    }

    /// <summary>Explicitness on the training and the test points.</summary>
    public static (double Train, double Test) Explicitness(LabelledCodes train, LabelledCodes test, Classifiers classifiers)
    {
        var (mean, std) = Standardization(train);
        double[] xTrain = Standardize(train, mean, std), xTest = Standardize(test, mean, std);
        double sumTrain = 0, sumTest = 0;
        for (int j = 0; j < train.FactorCount; j++)
        {
            int[] yTrain = train.FactorColumn(j), yTest = test.FactorColumn(j);
            var model = classifiers.LogisticRegression(xTrain, train.Dim, yTrain, train.Classes[j]);
            sumTrain += MeanAuc(model.Probabilities(xTrain), yTrain, train.Classes[j]);
            sumTest += MeanAuc(model.Probabilities(xTest), yTest, train.Classes[j]);
        }
        return (sumTrain / train.FactorCount, sumTest / train.FactorCount);
    }

    /// <summary>Each dimension's mean and standard deviation (population, as <c>np.std</c>) over the points; 1 where it is 0.</summary>
    internal static (double[] Mean, double[] Std) Standardization(LabelledCodes points)
    {
        var mean = new double[points.Dim];
        var std = new double[points.Dim];
        for (int i = 0; i < points.Dim; i++)
        {
            var column = points.Column(i);
            mean[i] = column.Average();
            double m = mean[i];
            std[i] = Math.Sqrt(column.Sum(v => (v - m) * (v - m)) / column.Length);
            // numpy would divide by zero here; a constant dimension carries nothing either way.
            if (std[i] == 0) std[i] = 1;
        }
        return (mean, std);
    }

    static double[] Standardize(LabelledCodes points, double[] mean, double[] std)
    {
        var x = new double[points.Codes.Length];
        for (int n = 0; n < x.Length; n++) x[n] = (points.Codes[n] - mean[n % points.Dim]) / std[n % points.Dim];
        return x;
    }

    /// <summary>
    /// The macro average over classes of the one-vs-rest ROC AUC of the class's probability (scikit-learn's
    /// <c>roc_auc_score</c> on binarized labels); a class absent from the points, or the only one present, has no AUC and is left out.
    /// </summary>
    internal static double MeanAuc(double[][] probabilities, int[] labels, int classes)
    {
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < classes; c++)
        {
            double auc = Auc(probabilities.Select(p => p[c]).ToArray(), labels.Select(y => y == c).ToArray());
            if (double.IsNaN(auc)) continue;
            sum += auc;
            counted++;
        }
        return counted == 0 ? double.NaN : sum / counted;
    }

    /// <summary>ROC AUC = the Mann–Whitney U over positives × negatives, ties counting ½; NaN without both kinds.</summary>
    internal static double Auc(double[] scores, bool[] positive)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        double rankSumPositive = 0;
        long positives = positive.LongCount(p => p), negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end < order.Length && scores[order[end]] == scores[order[start]]) end++;
            double rank = (start + end + 1) / 2.0; // mean of the 1-based ranks start+1 … end
            for (int t = start; t < end; t++) if (positive[order[t]]) rankSumPositive += rank;
            start = end;
        }
        return (rankSumPositive - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
