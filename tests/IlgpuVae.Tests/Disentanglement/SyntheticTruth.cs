using IlgpuVae.Disentanglement;

namespace IlgpuVae.Tests.Disentanglement;

/// <summary>
/// A ground truth whose "images" are the factors themselves (their class indices as floats), so that a test chooses the
/// representation exactly: the true factors, a rotation of them, noise. Factors are uniform and independent.
/// </summary>
internal sealed class SyntheticTruth(int[] classes) : GroundTruth
{
    public override IReadOnlyList<string> FactorNames { get; } = [.. classes.Select((_, j) => $"v{j}")];
    public override int[] Classes { get; } = classes;
    public override int ImageDim => Classes.Length;
    public override int? FiniteCount => null;

    public override (int[] Factors, float[] Pixels) Sample(int count, SeededDraws draws)
    {
        var factors = new int[count * Classes.Length];
        for (int i = 0; i < factors.Length; i++) factors[i] = draws.Next(Classes[i % Classes.Length]);
        return (factors, Array.ConvertAll(factors, v => (float)v));
    }

    public override (int[] Factors, float[] Pixels) SampleSharing(int[] values, int factor, SeededDraws draws)
    {
        var (factors, _) = Sample(values.Length, draws);
        for (int r = 0; r < values.Length; r++) factors[r * Classes.Length + factor] = values[r];
        return (factors, Array.ConvertAll(factors, v => (float)v));
    }

    public override (int[] Factors, float[] Pixels) Points(int count, SeededDraws draws) => Sample(count, draws);
}
