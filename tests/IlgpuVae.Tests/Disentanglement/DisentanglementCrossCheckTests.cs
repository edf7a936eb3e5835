using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Disentanglement;
using IlgpuVae.IO;
using IlgpuVae.Tests.Golden;
using IlgpuVae.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Disentanglement;

/// <summary>
/// The metrics against an independent implementation of the same definitions, scripts/disentanglement_reference.py
/// (numpy and scikit-learn), on the same codes: partly disentangled ones (each factor in its dimension plus noise, one
/// dimension leaking another factor, one dimension of pure noise). MIG, modularity and the FactorVAE majority vote —
/// arithmetic without a trained classifier — agree to 1e-6. The classifier-based scores are ML.NET's solvers against
/// scikit-learn's on the same problem, and within <see cref="ClassifierTolerance"/> and
/// <see cref="ImportanceTolerance"/> (see there why).
/// </summary>
public sealed class DisentanglementCrossCheckTests(ITestOutputHelper log)
{
    static readonly int[] Classes = [3, 4, 5];
    const int Dim = 4, Train = 600, Test = 300, Batch = 32, Points = 150, Bins = 20;

    /// <summary>
    /// Accuracies and AUCs of the same model class fitted by another solver (L-BFGS to ML.NET's tolerance against
    /// scikit-learn's lbfgs; SDCA against liblinear for the SVMs; FastTree's one-vs-rest ensembles against
    /// scikit-learn's softmax ensemble): the fitted boundaries differ slightly, and the points near them flip — a few
    /// in a few hundred, 0.03 of the test points at most.
    /// </summary>
    const double ClassifierTolerance = 0.03;

    /// <summary>
    /// SAP's 1-D SVMs: scikit-learn's LinearSVC minimizes the squared hinge and penalizes the intercept; ML.NET offers
    /// neither (its SVMs take the hinge, with a free intercept). At C = 0.01 the penalty dominates, so a 1-D boundary moves
    /// by a fraction of a class and some accuracies in the [codes × factors] matrix move by several points; the gap
    /// between the two best per factor, averaged, moved by 0.05 here (0.16 against 0.22). 0.07.
    /// </summary>
    const double SapTolerance = 0.07;

    /// <summary>
    /// DCI's disentanglement and completeness rest on the trees' feature importances: FastTree's per-class ensembles'
    /// split gains against scikit-learn's softmax ensemble's impurity decreases. The two agree on which code carries
    /// which factor, not on how much of the importance the weaker and the noise dimensions get (0.26 against 0.39
    /// here). 0.15. The arithmetic from an importance matrix is checked to 1e-6 apart.
    /// </summary>
    const double ImportanceTolerance = 0.15;

    /// <summary>Each scaled factor in its dimension with noise, factor 0 leaking into dimension 1, dimension 3 pure noise.</summary>
    static Func<float[], float[]> PartlyDisentangled(int seed)
    {
        var random = new Random(seed);
        int f = Classes.Length;
        return x => Enumerable.Range(0, x.Length / f).SelectMany(p =>
        {
            float N() => (float)MathNet.Numerics.Distributions.Normal.Sample(random, 0, 1);
            float S(int j) => x[p * f + j] / (Classes[j] - 1f);
            return new[] { S(0) + 0.2f * N(), S(1) + 0.5f * S(0) + 0.2f * N(), S(2) + 0.3f * N(), N() };
        }).ToArray();
    }

    [NeedsFact(Prerequisite.Sklearn)]
    public void TheMetricsAgreeWithScikitLearn()
    {
        var truth = new SyntheticTruth(Classes);
        var encode = PartlyDisentangled(seed: 4);
        var draws = new SeededDraws(11);
        var (yTrain, xTrain) = truth.Points(Train, draws);
        var (yTest, xTest) = truth.Points(Test, draws);
        float[] zTrain = encode(xTrain), zTest = encode(xTest);
        var train = new LabelledCodes(Array.ConvertAll(zTrain, v => (double)v), Dim, yTrain, Classes);
        var test = new LabelledCodes(Array.ConvertAll(zTest, v => (double)v), Dim, yTest, Classes);

        var (_, globalPixels) = truth.Sample(1000, draws);
        var global = encode(globalPixels);
        var (fvTrain, fvTrainFactor) = FactorVaeBatches(truth, encode, draws);
        var (fvEval, fvEvalFactor) = FactorVaeBatches(truth, encode, draws);
        var (bvTrain, bvTrainLabels) = BetaVaeFeatures(truth, encode, draws);
        var (bvEval, bvEvalLabels) = BetaVaeFeatures(truth, encode, draws);

        var classifiers = new Classifiers(1);
        var mi = Information.Matrix(train, Bins);
        var variances = FactorVaeScore.Variances(global, Dim);
        var active = FactorVaeScore.ActiveDimensions(variances);
        var fv = FactorVaeScore.Score(Votes(fvTrain, fvTrainFactor, variances, active), Votes(fvEval, fvEvalFactor, variances, active));
        var dci = Dci.Score(train, test, classifiers);
        var explicitness = Modularity.Explicitness(train, test, classifiers);
        var beta = BetaVaeScore.Score(Array.ConvertAll(bvTrain, v => (double)v), bvTrainLabels, Array.ConvertAll(bvEval, v => (double)v), bvEvalLabels,
            Dim, Classes.Length, classifiers);
        var ours = new Dictionary<string, double>
        {
            ["mig"] = Mig.Score(mi, Mig.Entropies(train)), ["modularity"] = Modularity.Score(mi),
            ["factor_vae_train"] = fv.Train, ["factor_vae_eval"] = fv.Eval, ["factor_vae_active_dims"] = active.Length,
            ["dci_disentanglement"] = dci.Disentanglement, ["dci_completeness"] = dci.Completeness,
            ["dci_informativeness_train"] = dci.InformativenessTrain, ["dci_informativeness_test"] = dci.InformativenessTest,
            ["sap"] = Sap.Score(train, test, classifiers).Score, ["explicitness_train"] = explicitness.Train, ["explicitness_test"] = explicitness.Test,
            ["beta_vae_train"] = beta.Train, ["beta_vae_eval"] = beta.Eval,
            ["dci_disentanglement_given"] = dci.Disentanglement, ["dci_completeness_given"] = dci.Completeness,
        };
        var importance = new float[Dim * Classes.Length];
        for (int i = 0; i < Dim; i++) for (int j = 0; j < Classes.Length; j++) importance[i * Classes.Length + j] = (float)dci.Importance[i, j];

        string file = Path.Combine(Path.GetTempPath(), $"ilgpuvae-dis-{Guid.NewGuid():N}.safetensors");
        try
        {
            int n = Classes.Length;
            SafeTensors.Write(file,
            [
                new("mus_train", [Train, Dim], zTrain), new("ys_train", [Train, n], Array.ConvertAll(yTrain, v => (float)v)),
                new("mus_test", [Test, Dim], zTest), new("ys_test", [Test, n], Array.ConvertAll(yTest, v => (float)v)),
                new("fv_global", [1000, Dim], global),
                new("fv_train", [Points, Batch, Dim], fvTrain), new("fv_train_factor", [Points], Array.ConvertAll(fvTrainFactor, v => (float)v)),
                new("fv_eval", [Points, Batch, Dim], fvEval), new("fv_eval_factor", [Points], Array.ConvertAll(fvEvalFactor, v => (float)v)),
                new("bv_train", [Points, Dim], bvTrain), new("bv_train_labels", [Points], Array.ConvertAll(bvTrainLabels, v => (float)v)),
                new("bv_eval", [Points, Dim], bvEval), new("bv_eval_labels", [Points], Array.ConvertAll(bvEvalLabels, v => (float)v)),
                new("dci_importance", [Dim, Classes.Length], importance),
            ]);
            var theirs = RunReference(file);
            foreach (var (key, value) in ours)
            {
                double expected = theirs[key];
                log.WriteLine($"{key,-28} C# {value:F6}  Python {expected:F6}  difference {Math.Abs(value - expected):E2}");
            }
            foreach (var key in new[] { "mig", "modularity", "factor_vae_train", "factor_vae_eval", "factor_vae_active_dims" })
                Assert.True(Math.Abs(ours[key] - theirs[key]) <= 1e-6, $"{key}: C# {ours[key]} against Python {theirs[key]}");
            foreach (var key in new[] { "dci_informativeness_train", "dci_informativeness_test", "explicitness_train", "explicitness_test", "beta_vae_train", "beta_vae_eval" })
                Assert.True(Math.Abs(ours[key] - theirs[key]) <= ClassifierTolerance, $"{key}: C# {ours[key]} against Python {theirs[key]}");
            Assert.True(Math.Abs(ours["sap"] - theirs["sap"]) <= SapTolerance, $"sap: C# {ours["sap"]} against Python {theirs["sap"]}");
            // DCI's arithmetic, on our importance matrix, agrees exactly; the trees' importances themselves loosely.
            foreach (var key in new[] { "dci_disentanglement_given", "dci_completeness_given" })
                Assert.True(Math.Abs(ours[key] - theirs[key]) <= 1e-6, $"{key}: C# {ours[key]} against Python {theirs[key]}");
            foreach (var key in new[] { "dci_disentanglement", "dci_completeness" })
                Assert.True(Math.Abs(ours[key] - theirs[key]) <= ImportanceTolerance, $"{key}: C# {ours[key]} against Python {theirs[key]}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    static (float[] Codes, int[] Factors) FactorVaeBatches(SyntheticTruth truth, Func<float[], float[]> encode, SeededDraws draws)
    {
        var codes = new List<float>();
        var factors = new int[Points];
        for (int p = 0; p < Points; p++)
        {
            int k = factors[p] = draws.Next(Classes.Length);
            var (one, _) = truth.Sample(1, draws);
            codes.AddRange(encode(truth.SampleSharing(Enumerable.Repeat(one[k], Batch).ToArray(), k, draws).Pixels));
        }
        return ([.. codes], factors);
    }

    static long[,] Votes(float[] batches, int[] factors, double[] variances, int[] active)
    {
        var votes = new long[Classes.Length, Dim];
        for (int p = 0; p < factors.Length; p++)
            votes[factors[p], FactorVaeScore.Vote(batches.AsSpan(p * Batch * Dim, Batch * Dim).ToArray(), Dim, variances, active)]++;
        return votes;
    }

    /// <summary>BetaVAE features, rounded to float as the file holds them, so both sides fit the same numbers.</summary>
    static (float[] Features, int[] Labels) BetaVaeFeatures(SyntheticTruth truth, Func<float[], float[]> encode, SeededDraws draws)
    {
        var features = new List<float>();
        var labels = new int[Points];
        for (int p = 0; p < Points; p++)
        {
            int k = labels[p] = draws.Next(Classes.Length);
            var (first, firstPixels) = truth.Sample(Batch, draws);
            var values = Enumerable.Range(0, Batch).Select(r => first[r * Classes.Length + k]).ToArray();
            features.AddRange(BetaVaeScore.Feature(encode(firstPixels), encode(truth.SampleSharing(values, k, draws).Pixels), Dim).Select(v => (float)v));
        }
        return ([.. features], labels);
    }

    static Dictionary<string, double> RunReference(string file)
    {
        string script = Path.Combine(GoldenFolders.Root, "scripts", "disentanglement_reference.py");
        using var process = Process.Start(new ProcessStartInfo(Prerequisites.Python, [script, file, Bins.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{script} failed ({process.ExitCode}): {stderr}");
        return JsonSerializer.Deserialize<Dictionary<string, double>>(stdout.Trim().Split('\n')[^1])!;
    }
}
