namespace IlgpuVae.Tests.Disentanglement;

/// <summary>Representations of <see cref="SyntheticTruth"/>'s factors for the metric tests: each maps F factor values per point to a code.</summary>
internal static class Representations
{
    /// <summary>The factors themselves, each in its own dimension, scaled to unit range.</summary>
    public static Func<float[], float[]> TrueFactors(int[] classes) => x =>
        x.Select((v, i) => v / (classes[i % classes.Length] - 1f)).ToArray();

    /// <summary>The scaled factors mixed by a random rotation (QR of a Gaussian matrix, seeded).</summary>
    public static Func<float[], float[]> Rotated(int[] classes, int seed)
    {
        int f = classes.Length;
        var q = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Random(f, f, new MathNet.Numerics.Distributions.Normal(new Random(seed))).QR().Q;
        var scaled = TrueFactors(classes);
        return x =>
        {
            var s = scaled(x);
            var z = new float[s.Length];
            for (int p = 0; p < s.Length / f; p++)
                for (int i = 0; i < f; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < f; j++) sum += q[i, j] * s[p * f + j];
                    z[p * f + i] = (float)sum;
                }
            return z;
        };
    }

    /// <summary>Standard normal noise of <paramref name="dim"/> values per point, independent of the factors.</summary>
    public static Func<float[], float[]> Noise(int factors, int dim, int seed)
    {
        var random = new Random(seed);
        return x => Enumerable.Range(0, x.Length / factors * dim).Select(_ => (float)MathNet.Numerics.Distributions.Normal.Sample(random, 0, 1)).ToArray();
    }

    /// <summary>The scaled factors, with factor 0 repeated in one more dimension.</summary>
    public static Func<float[], float[]> Duplicated(int[] classes)
    {
        int f = classes.Length;
        var scaled = TrueFactors(classes);
        return x =>
        {
            var s = scaled(x);
            int n = s.Length / f;
            var z = new float[n * (f + 1)];
            for (int p = 0; p < n; p++)
            {
                Array.Copy(s, p * f, z, p * (f + 1), f);
                z[p * (f + 1) + f] = s[p * f];
            }
            return z;
        };
    }
}
