namespace IlgpuVae.Disentanglement;

/// <summary>
/// The SAP score (Kumar et al. 2018) for discrete factors, as disentanglement_lib's <c>sap_score</c>: for each code
/// dimension i and factor j, the test accuracy of a linear SVM (C = 0.01, classes weighted to balance) from zᵢ alone
/// to vⱼ; per factor the gap between the two best dimensions, averaged over the factors.
/// </summary>
internal static class Sap
{
    /// <summary>The score and the [codes × factors] accuracy matrix.</summary>
    public static (double Score, double[,] Accuracies) Score(LabelledCodes train, LabelledCodes test, Classifiers classifiers)
    {
        int codes = train.Dim, factors = train.FactorCount;
        if (codes < 2) throw new ArgumentException($"SAP compares the two best code dimensions; the code has {codes}.");
        var accuracy = new double[codes, factors];
        for (int i = 0; i < codes; i++)
        {
            double[] xTrain = train.Column(i), xTest = test.Column(i);
            for (int j = 0; j < factors; j++)
            {
                var model = classifiers.LinearSvm(xTrain, 1, train.FactorColumn(j), train.Classes[j], c: 0.01);
                accuracy[i, j] = Classifiers.Accuracy(model.Predict(xTest), test.FactorColumn(j));
            }
        }
        double sum = 0;
        for (int j = 0; j < factors; j++)
        {
            var column = Enumerable.Range(0, codes).Select(i => accuracy[i, j]).OrderDescending().ToArray();
            sum += column[0] - column[1];
        }
        return (sum / factors, accuracy);
    }
}
