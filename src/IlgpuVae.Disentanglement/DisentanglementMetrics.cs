using System.Diagnostics;
using IlgpuVae.Data;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// Measures how disentangled a model's representation — its posterior means μ(x), encoded on the model's device in
/// batches — is against the data's ground-truth factors: the BetaVAE and FactorVAE scores, MIG, DCI, SAP, modularity
/// and explicitness, as google-research/disentanglement_lib defines them, with <see cref="DisentanglementOptions"/>'
/// sample sizes. For sprites the points and the batches holding one factor fixed are rendered by the generator; for
/// other images with factors (a factors file), the points are the set's images and a batch holding factor k at a value
/// is drawn among the images that have it. Every draw is keyed by the seed, so the numbers repeat.
/// </summary>
public static class DisentanglementMetrics
{
    /// <summary>
    /// The metrics of <paramref name="vae"/> on <paramref name="data"/>, which must have factors. Generated sprites
    /// (<c>--data sprites</c>) are measured on fresh sprites of the same size; any other set on its own images.
    /// </summary>
    /// <exception cref="ArgumentException">The data has no factors, or too few images for a metric's sample sizes (naming both).</exception>
    public static DisentanglementResult Measure(Vae vae, ImageSet data, DisentanglementOptions? options = null, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Factors is null || data.FactorNames.Length == 0)
            throw new ArgumentException($"Data set '{data.Name}' has no factors: the disentanglement metrics need each image's ground-truth factors " +
                                        "(sprites have them; for other images give a factors file).");
        var truth = IsGeneratedSprites(data) ? (GroundTruth)new SpritesTruth(data.Height) : new ImageSetTruth(data);
        return Measure(pixels => vae.Encode(pixels).Mu, vae.LatentDim, truth, options ?? new DisentanglementOptions(), seed);
    }

    /// <summary>Whether the set is the sprites generator's (its name and factors), so that any combination can be rendered.</summary>
    static bool IsGeneratedSprites(ImageSet data) =>
        data.Name.StartsWith("sprites", StringComparison.Ordinal) && data.Channels == 1 && data.Height == data.Width &&
        data.FactorNames.SequenceEqual(Sprites.FactorNames);

    /// <summary>The metrics of the representation <paramref name="encode"/> (pixels of whole images → <paramref name="dim"/> values each).</summary>
    internal static DisentanglementResult Measure(Func<float[], float[]> encode, int dim, GroundTruth truth, DisentanglementOptions options, ulong seed)
    {
        options.Validate();
        RequireImages(truth, options, dim);
        var clock = Stopwatch.StartNew();
        var classifiers = new Classifiers(unchecked((int)seed));
        int pointCount = options.TrainPoints + options.TestPoints;
        var (factors, pixels) = truth.Points(pointCount, new SeededDraws(Key(seed, 1)));
        var codes = Array.ConvertAll(encode(pixels), v => (double)v);
        var all = new LabelledCodes(codes, dim, factors, truth.Classes);
        var train = all.Slice(0, options.TrainPoints);
        var test = all.Slice(options.TrainPoints, options.TestPoints);

        var mi = Information.Matrix(train, options.Bins);
        var entropy = Mig.Entropies(train);
        var dci = Dci.Score(train, test, classifiers);
        var sap = Sap.Score(train, test, classifiers);
        var explicitness = Modularity.Explicitness(train, test, classifiers);
        var betaVae = BetaVae(encode, dim, truth, options, classifiers, seed);
        var (factorVae, active) = FactorVae(encode, dim, truth, options, seed);
        return new DisentanglementResult
        {
            BetaVae = betaVae, FactorVae = factorVae, FactorVaeActiveDims = active,
            Mig = Mig.Score(mi, entropy), DciDisentanglement = dci.Disentanglement, DciCompleteness = dci.Completeness,
            DciInformativeness = (dci.InformativenessTrain, dci.InformativenessTest), Sap = sap.Score,
            Modularity = Modularity.Score(mi), Explicitness = explicitness,
            MutualInformation = mi, FactorEntropy = entropy, FactorNames = truth.FactorNames, Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>Refuses sample sizes the data cannot give or a code the metrics cannot compare, naming the metric and what it needs.</summary>
    static void RequireImages(GroundTruth truth, DisentanglementOptions options, int dim)
    {
        if (dim < 2) throw new ArgumentException($"MIG and SAP compare the two best code dimensions; this model's code has {dim}.");
        if (truth.FiniteCount is not int count) return;
        int points = options.TrainPoints + options.TestPoints;
        if (count < points)
            throw new ArgumentException($"MIG, DCI, SAP and modularity/explicitness need {points} distinct images (--factor-train {options.TrainPoints} + " +
                                        $"--factor-test {options.TestPoints}); the evaluated set has {count}. Lower them, or evaluate more images.");
        if (count < options.ScoreBatch)
            throw new ArgumentException($"The BetaVAE and FactorVAE scores draw batches of --score-batch {options.ScoreBatch} images; the evaluated set has {count}.");
    }

    /// <summary>Each metric's own stream of draws, so that one metric's sizes do not change another's batches.</summary>
    static ulong Key(ulong seed, ulong metric) => seed * 0x9E3779B97F4A7C15UL + metric;

    /// <summary>Points encoded per call: enough images to fill the device's batches, few enough to keep the pixels small.</summary>
    const int PointsPerChunk = 32;

    static (double Train, double Eval) BetaVae(Func<float[], float[]> encode, int dim, GroundTruth truth, DisentanglementOptions options,
        Classifiers classifiers, ulong seed)
    {
        var draws = new SeededDraws(Key(seed, 2));
        var (trainX, trainY) = BetaVaePoints(encode, dim, truth, options.BetaVaeTrain, options.ScoreBatch, draws);
        var (evalX, evalY) = BetaVaePoints(encode, dim, truth, options.BetaVaeEval, options.ScoreBatch, draws);
        return BetaVaeScore.Score(trainX, trainY, evalX, evalY, dim, truth.Classes.Length, classifiers);
    }

    /// <summary>The BetaVAE score's features and labels for <paramref name="count"/> points.</summary>
    static (double[] Features, int[] Labels) BetaVaePoints(Func<float[], float[]> encode, int dim, GroundTruth truth, int count, int batch, SeededDraws draws)
    {
        int f = truth.Classes.Length, d = truth.ImageDim;
        var features = new double[count * dim];
        var labels = new int[count];
        for (int start = 0; start < count; start += PointsPerChunk)
        {
            int points = Math.Min(PointsPerChunk, count - start);
            var pixels = new float[(long)points * 2 * batch * d];
            for (int p = 0; p < points; p++)
            {
                int k = draws.Next(f);
                labels[start + p] = k;
                var (first, firstPixels) = truth.Sample(batch, draws);
                var values = Enumerable.Range(0, batch).Select(r => first[r * f + k]).ToArray();
                var (_, secondPixels) = truth.SampleSharing(values, k, draws);
                firstPixels.CopyTo(pixels, (long)p * 2 * batch * d);
                secondPixels.CopyTo(pixels, ((long)p * 2 + 1) * batch * d);
            }
            var codes = encode(pixels);
            for (int p = 0; p < points; p++)
            {
                var feature = BetaVaeScore.Feature(codes.AsSpan(p * 2 * batch * dim, batch * dim).ToArray(),
                    codes.AsSpan((p * 2 + 1) * batch * dim, batch * dim).ToArray(), dim);
                feature.CopyTo(features, (start + p) * dim);
            }
        }
        return (features, labels);
    }

    static ((double Train, double Eval) Score, int Active) FactorVae(Func<float[], float[]> encode, int dim, GroundTruth truth, DisentanglementOptions options, ulong seed)
    {
        var draws = new SeededDraws(Key(seed, 3));
        var (_, pixels) = truth.Sample(options.FactorVaeVariance, draws);
        var global = FactorVaeScore.Variances(encode(pixels), dim);
        var active = FactorVaeScore.ActiveDimensions(global);
        if (active.Length == 0) return ((0, 0), 0);
        var trainVotes = FactorVaeVotes(encode, dim, truth, options.FactorVaeTrain, options.ScoreBatch, draws, global, active);
        var evalVotes = FactorVaeVotes(encode, dim, truth, options.FactorVaeEval, options.ScoreBatch, draws, global, active);
        return (FactorVaeScore.Score(trainVotes, evalVotes), active.Length);
    }

    /// <summary>The FactorVAE score's [factors × dims] votes of <paramref name="count"/> batches.</summary>
    static long[,] FactorVaeVotes(Func<float[], float[]> encode, int dim, GroundTruth truth, int count, int batch, SeededDraws draws,
        double[] global, int[] active)
    {
        int f = truth.Classes.Length, d = truth.ImageDim;
        var votes = new long[f, dim];
        for (int start = 0; start < count; start += PointsPerChunk)
        {
            int points = Math.Min(PointsPerChunk, count - start);
            var pixels = new float[(long)points * batch * d];
            var fixedFactor = new int[points];
            for (int p = 0; p < points; p++)
            {
                int k = fixedFactor[p] = draws.Next(f);
                var (one, _) = truth.Sample(1, draws);
                var (_, batchPixels) = truth.SampleSharing(Enumerable.Repeat(one[k], batch).ToArray(), k, draws);
                batchPixels.CopyTo(pixels, (long)p * batch * d);
            }
            var codes = encode(pixels);
            for (int p = 0; p < points; p++)
                votes[fixedFactor[p], FactorVaeScore.Vote(codes.AsSpan(p * batch * dim, batch * dim).ToArray(), dim, global, active)]++;
        }
        return votes;
    }
}
