namespace IlgpuVae.Disentanglement;

/// <summary>
/// Points for the metrics: <see cref="Count"/> codes of <see cref="Dim"/> values (row-major) and each point's factors as
/// class indices, <see cref="FactorCount"/> per point (row-major), factor j taking values in [0, <see cref="Classes"/>[j]).
/// </summary>
internal sealed record LabelledCodes(double[] Codes, int Dim, int[] Factors, int[] Classes)
{
    /// <summary>The number of points.</summary>
    public int Count => Codes.Length / Dim;

    /// <summary>The number of factors.</summary>
    public int FactorCount => Classes.Length;

    /// <summary>Code dimension <paramref name="j"/> of every point.</summary>
    public double[] Column(int j)
    {
        var values = new double[Count];
        for (int i = 0; i < values.Length; i++) values[i] = Codes[i * Dim + j];
        return values;
    }

    /// <summary>Factor <paramref name="j"/> of every point.</summary>
    public int[] FactorColumn(int j)
    {
        var values = new int[Count];
        for (int i = 0; i < values.Length; i++) values[i] = Factors[i * FactorCount + j];
        return values;
    }

    /// <summary>Points [start, start + count).</summary>
    public LabelledCodes Slice(int start, int count) => this with
    {
        Codes = Codes.AsSpan(start * Dim, count * Dim).ToArray(),
        Factors = Factors.AsSpan(start * FactorCount, count * FactorCount).ToArray(),
    };
}
