using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// The classifiers the metrics need, from ML.NET, each model fitted on one thread and seeded, with scikit-learn's settings where
/// disentanglement_lib uses scikit-learn's defaults. Points are row-major (n × dim), labels class indices.
/// <list type="bullet">
/// <item>Logistic regression (BetaVAE score, explicitness): multinomial, L-BFGS, L2 with scikit-learn's C = 1 — ML.NET
/// minimizes the mean loss + λ/2 ‖w‖², scikit-learn C·Σ loss + ½ ‖w‖², the same optimum for λ = 1 / (C·n).</item>
/// <item>Gradient-boosted trees (DCI): scikit-learn's GradientBoostingClassifier defaults — 100 trees of 8 leaves
/// (depth 3), learning rate 0.1, a leaf of one point allowed — as FastTree, one binary ensemble per class (one-vs-rest)
/// where scikit-learn fits a softmax ensemble; the prediction is the class of the largest score, the importances each
/// ensemble's split gains normalized to 1, summed over the classes and normalized to 1.</item>
/// <item>Linear SVM (SAP): hinge loss with C, classes weighted to balance (n / (classes · nₖ)), as SDCA, one binary
/// SVM per class (liblinear's one-vs-rest), with λ = 1 / (C·n) as above. scikit-learn's LinearSVC differs in two ways
/// ML.NET has no option for: its default loss is the squared hinge, and liblinear penalizes the intercept as a weight.</item>
/// </list>
/// A class absent from the training points is never predicted (scikit-learn learns only the classes it sees).
/// </summary>
internal sealed class Classifiers(int seed)
{
    /// <summary>The key column the class index is mapped to.</summary>
    const string ClassKey = "Class";

    readonly MLContext context = new(seed) { GpuDeviceId = null, FallbackToCpu = true };

    /// <summary>
    /// The one-vs-rest models of a classifier are fitted side by side, one per core: each on one thread, in a context of
    /// its own with the same seed, so the result does not depend on how they are scheduled.
    /// </summary>
    static readonly ParallelOptions Threads = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>A trained classifier.</summary>
    internal interface IModel
    {
        /// <summary>The predicted class of each point.</summary>
        int[] Predict(double[] x);
    }

    /// <summary>A classifier with class probabilities.</summary>
    internal interface IProbabilisticModel : IModel
    {
        /// <summary>Each point's probability of each class (classes absent from training get 0).</summary>
        double[][] Probabilities(double[] x);
    }

    /// <summary>Gradient-boosted trees with each code dimension's importance.</summary>
    internal interface ITreeModel : IModel
    {
        /// <summary>The importance of each input dimension, summing to 1 (all 0 when no split was made).</summary>
        double[] Importances { get; }
    }

    /// <summary>The share of points whose prediction is the truth.</summary>
    public static double Accuracy(int[] predicted, int[] truth) =>
        predicted.Zip(truth).Count(p => p.First == p.Second) / (double)truth.Length;

    /// <summary>Multinomial logistic regression, L2 with scikit-learn's C = 1.</summary>
    public IProbabilisticModel LogisticRegression(double[] x, int dim, int[] y, int classes)
    {
        int n = y.Length;
        var present = Present(y, classes);
        var keyOf = KeyIndex(present, classes);
        var data = Load(x, dim, y.Select(v => (float)keyOf[v]).ToArray(), null);
        // The class index becomes a key sorted by value, so the Score column's slot i is present class i.
        var toKey = context.Transforms.Conversion.MapValueToKey(ClassKey, nameof(Row.ClassIndex),
            keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue);
        var trainer = toKey.Append(context.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = ClassKey, FeatureColumnName = nameof(Row.Features),
            L2Regularization = (float)(1.0 / n), L1Regularization = 0, NumberOfThreads = 1, OptimizationTolerance = 1e-7f,
            EnforceNonNegativity = false, ShowTrainingStatistics = false,
        }));
        var model = trainer.Fit(data);
        return new ScoredModel(this, model, dim, present, classes);
    }

    /// <summary>Gradient-boosted trees, one-vs-rest, with scikit-learn's GradientBoostingClassifier defaults.</summary>
    public ITreeModel BoostedTrees(double[] x, int dim, int[] y, int classes)
    {
        var present = Present(y, classes);
        var models = new List<ITransformer>();
        var importance = new double[dim];
        // One class alone is predicted without a model (a binary trainer refuses labels of one kind).
        if (present.Length == 1) return new OneVersusRest(this, models, dim, present, importance);
        var trained = new ITransformer[present.Length];
        var gains = new double[present.Length][];
        Parallel.For(0, present.Length, Threads, m =>
        {
            // A context per model: each fit runs on one thread with the same seed, whichever thread and order.
            var local = new Classifiers(seed);
            int c = present[m];
            var data = local.Load(x, dim, null, y.Select(v => v == c).ToArray());
            var trainer = local.context.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Label), FeatureColumnName = nameof(Row.Features),
                NumberOfTrees = 100, NumberOfLeaves = 8, LearningRate = 0.1, MinimumExampleCountPerLeaf = 1,
                NumberOfThreads = 1, Seed = seed, FeatureFraction = 1, BaggingSize = 0,
            });
            var model = trainer.Fit(data);
            VBuffer<float> weights = default;
            model.Model.SubModel.GetFeatureWeights(ref weights);
            // ML.NET reports √(summed split gain), scaled so the largest is 1: squared back to gains.
            gains[m] = weights.DenseValues().Select(v => (double)v * v).ToArray();
            trained[m] = model;
        });
        // Each class's ensemble normalized to 1, as scikit-learn normalizes each boosting stage, then summed in class order.
        foreach (var g in gains)
        {
            double classTotal = g.Sum();
            for (int i = 0; i < dim && classTotal > 0; i++) importance[i] += i < g.Length ? g[i] / classTotal : 0;
        }
        models.AddRange(trained);
        double total = importance.Sum();
        if (total > 0) for (int i = 0; i < dim; i++) importance[i] /= total;
        return new OneVersusRest(this, models, dim, present, importance);
    }

    /// <summary>A linear SVM with hinge loss and penalty C, classes weighted to balance, one-vs-rest.</summary>
    public IModel LinearSvm(double[] x, int dim, int[] y, int classes, double c)
    {
        int n = y.Length;
        var present = Present(y, classes);
        var counts = new int[classes];
        foreach (int v in y) counts[v]++;
        var weights = y.Select(v => (float)(n / ((double)present.Length * counts[v]))).ToArray();
        var models = new List<ITransformer>();
        // One class alone is predicted without a model (a binary trainer refuses labels of one kind).
        if (present.Length == 1) return new OneVersusRest(this, models, dim, present, []);
        var trained = new ITransformer[present.Length];
        Parallel.For(0, present.Length, Threads, m =>
        {
            var local = new Classifiers(seed);
            int k = present[m];
            var data = local.Load(x, dim, null, y.Select(v => v == k).ToArray(), weights);
            var trainer = local.context.BinaryClassification.Trainers.SdcaNonCalibrated(new SdcaNonCalibratedBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Label), FeatureColumnName = nameof(Row.Features), ExampleWeightColumnName = nameof(Row.Weight),
                LossFunction = new HingeLoss(), L2Regularization = (float)(1.0 / (c * n)), L1Regularization = 0,
                NumberOfThreads = 1, MaximumNumberOfIterations = 100, ConvergenceTolerance = 1e-4f, Shuffle = true,
            });
            trained[m] = trainer.Fit(data);
        });
        models.AddRange(trained);
        return new OneVersusRest(this, models, dim, present, []);
    }

    static int[] Present(int[] y, int classes)
    {
        foreach (int v in y)
            if ((uint)v >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(y), $"Class {v} is not in [0, {classes}).");
        return y.Distinct().Order().ToArray();
    }

    static int[] KeyIndex(int[] present, int classes)
    {
        var key = Enumerable.Repeat(-1, classes).ToArray();
        for (int i = 0; i < present.Length; i++) key[present[i]] = i;
        return key;
    }

    /// <summary>A point for ML.NET: the code, a class index (made a key in the pipeline) or a binary label, and a weight.</summary>
    public sealed class Row
    {
        /// <summary>The input values.</summary>
        public float[] Features = [];
        /// <summary>The class's index among the present classes.</summary>
        public float ClassIndex;
        /// <summary>The binary label (one class against the rest).</summary>
        public bool Label;
        /// <summary>The point's weight in the loss.</summary>
        public float Weight = 1;
    }

    IDataView Load(double[] x, int dim, float[]? classIndex, bool[]? labels, float[]? weights = null)
    {
        int n = x.Length / dim;
        var rows = new Row[n];
        for (int i = 0; i < n; i++)
        {
            var features = new float[dim];
            for (int j = 0; j < dim; j++) features[j] = (float)x[i * dim + j];
            rows[i] = new Row { Features = features, ClassIndex = classIndex?[i] ?? 0, Label = labels?[i] ?? false, Weight = weights?[i] ?? 1 };
        }
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dim);
        return context.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>A multiclass model whose Score column holds a probability per present class.</summary>
    sealed class ScoredModel(Classifiers owner, ITransformer model, int dim, int[] present, int classes) : IProbabilisticModel
    {
        public int[] Predict(double[] x) => Probabilities(x).Select(ArgMax).ToArray();

        public double[][] Probabilities(double[] x)
        {
            var scores = model.Transform(owner.Load(x, dim, null, null)).GetColumn<float[]>("Score").ToArray();
            return scores.Select(s =>
            {
                var p = new double[classes];
                for (int i = 0; i < present.Length; i++) p[present[i]] = s[i];
                return p;
            }).ToArray();
        }
    }

    /// <summary>One binary model per present class; the prediction is the class of the largest score.</summary>
    sealed class OneVersusRest(Classifiers owner, List<ITransformer> models, int dim, int[] present, double[] importances) : ITreeModel
    {
        public double[] Importances => importances;

        public int[] Predict(double[] x)
        {
            int n = x.Length / dim;
            if (present.Length == 1) return Enumerable.Repeat(present[0], n).ToArray();
            var data = owner.Load(x, dim, null, null);
            var best = Enumerable.Repeat(double.NegativeInfinity, n).ToArray();
            var predicted = new int[n];
            for (int m = 0; m < models.Count; m++)
            {
                var scores = models[m].Transform(data).GetColumn<float>("Score").ToArray();
                for (int i = 0; i < n; i++)
                    if (scores[i] > best[i]) { best[i] = scores[i]; predicted[i] = present[m]; }
            }
            return predicted;
        }
    }

    static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
