namespace IlgpuVae.Disentanglement;

/// <summary>
/// The BetaVAE score (Higgins et al. 2017), as disentanglement_lib's <c>beta_vae_sklearn</c>: each point picks a factor
/// k at random and draws two batches whose rows pair up sharing factor k's value (the rest drawn independently); its
/// feature is the mean over the batch of |z₁ − z₂| per dimension, its label k. A logistic regression from the features
/// to k is trained on the training points; the score is its accuracy on the training and the evaluation points.
/// </summary>
internal static class BetaVaeScore
{
    /// <summary>The accuracies, from the features (n × dim, row-major) and labels of the training and evaluation points.</summary>
    public static (double Train, double Eval) Score(double[] trainFeatures, int[] trainLabels, double[] evalFeatures, int[] evalLabels,
        int dim, int factors, Classifiers classifiers)
    {
        var model = classifiers.LogisticRegression(trainFeatures, dim, trainLabels, factors);
        return (Classifiers.Accuracy(model.Predict(trainFeatures), trainLabels), Classifiers.Accuracy(model.Predict(evalFeatures), evalLabels));
    }

    /// <summary>A point's feature: the mean over the batch's rows of |z₁ − z₂|, per dimension (codes row-major, batch × dim each).</summary>
    public static double[] Feature(float[] first, float[] second, int dim)
    {
        var feature = new double[dim];
        int rows = first.Length / dim;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < dim; j++) feature[j] += Math.Abs((double)first[r * dim + j] - second[r * dim + j]);
        for (int j = 0; j < dim; j++) feature[j] /= rows;
        return feature;
    }
}
