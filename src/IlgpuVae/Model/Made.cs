namespace IlgpuVae.Model;

/// <summary>
/// The connectivity of a MADE (Germain et al., 2015): every unit gets a degree, and a weight from unit v to
/// unit u is kept only where the degrees allow, so output i never depends on inputs of degree ≥ its own.
/// Deterministic, so a checkpoint's model rebuilds the same masks:
///   inputs: degree i + 1 for input i (raster order), or d − i where the order is reversed (odd flow steps);
///   hidden layer units: degree 1 + (j mod (d − 1)), cycling through 1 … d − 1;
///   hidden mask M[u, v] = 1 where degree(u) ≥ degree(v); output mask M[i, u] = 1 where degree(i) &gt; degree(u)
///   (with no hidden layer, output i sees input v where degree(i) &gt; degree(v): strictly lower-triangular).
/// </summary>
public static class Made
{
    /// <summary>Degrees of d inputs: 1 … d, or d … 1 reversed.</summary>
    public static int[] InputDegrees(int d, bool reversed) =>
        Enumerable.Range(0, d).Select(i => reversed ? d - i : i + 1).ToArray();

    /// <summary>Degrees of a hidden layer of <paramref name="units"/> over d inputs (d ≥ 2).</summary>
    public static int[] HiddenDegrees(int units, int d) =>
        Enumerable.Range(0, units).Select(j => 1 + j % (d - 1)).ToArray();

    /// <summary>Mask [to, from], row-major, 1 where the connection is kept: ≥ into a hidden layer, &gt; into the outputs.</summary>
    public static float[] Mask(int[] toDegrees, int[] fromDegrees, bool output)
    {
        var mask = new float[toDegrees.Length * fromDegrees.Length];
        for (int u = 0; u < toDegrees.Length; u++)
            for (int v = 0; v < fromDegrees.Length; v++)
                mask[u * fromDegrees.Length + v] = (output ? toDegrees[u] > fromDegrees[v] : toDegrees[u] >= fromDegrees[v]) ? 1f : 0f;
        return mask;
    }

    /// <summary>
    /// The masks of a MADE over inputs of the given degrees: one per hidden layer, then the output layer's, whose
    /// rows repeat for every block of <paramref name="outputBlocks"/> outputs (an IAF step's m and s).
    /// </summary>
    public static IReadOnlyList<float[]> Masks(int[] inputDegrees, IReadOnlyList<int> hidden, int outputBlocks = 1)
    {
        var masks = new List<float[]>();
        var from = inputDegrees;
        foreach (int units in hidden)
        {
            var to = HiddenDegrees(units, inputDegrees.Length);
            masks.Add(Mask(to, from, output: false));
            from = to;
        }
        var outputs = Enumerable.Repeat(inputDegrees, outputBlocks).SelectMany(d => d).ToArray();
        masks.Add(Mask(outputs, from, output: true));
        return masks;
    }
}
