namespace IlgpuVae.Model;

/// <summary>How a MADE's hidden units get their degrees (<see cref="Made"/>); config.json's <c>made_degrees</c>.</summary>
public enum MadeDegrees
{
    /// <summary>1 + (j mod (d − 1)): the rule of runs whose config.json has no <c>made_degrees</c>; a layer narrower than d − 1 covers only 1 … width.</summary>
    Cyclic,
    /// <summary>Every layer spread evenly over 1 … d − 1, whatever its width, holding the narrowest layer's degrees (the default).</summary>
    Spread,
}

/// <summary>
/// The connectivity of a MADE (Germain et al., 2015): every unit gets a degree, and a weight from unit v to
/// unit u is kept only where the degrees allow, so output i never depends on inputs of degree ≥ its own.
/// Deterministic, so a checkpoint's model rebuilds the same masks:
///   inputs: degree i + 1 for input i (raster order), or d − i where the order is reversed (odd flow steps);
///   hidden mask M[u, v] = 1 where degree(u) ≥ degree(v); output mask M[i, u] = 1 where degree(i) &gt; degree(u)
///   (with no hidden layer, output i sees input v where degree(i) &gt; degree(v): strictly lower-triangular);
///   hidden layers of widths n_0, n_1, … with w = min_l n_l, by <see cref="MadeDegrees"/>:
///   spread: S(n) = [1 + ⌊j·(d − 1)/n⌋ for j = 0 … n − 1], n degrees evenly over 1 … d − 1 (all of them when
///     n ≥ d − 1); layer l's first w units take S(w), its other n_l − w units S(n_l − w). The paper draws degrees
///     at random over 1 … d − 1; spacing them evenly keeps the masks a function of the shape alone.
///     Every layer holding S(w) is what keeps a narrow layer's gaps from adding up along the chain: the units of
///     degree t ∈ S(w) connect through every layer, so output i (in the order's terms) reaches the inputs up to
///     t − 1 for the largest t ∈ S(w) with t ≤ i, and S(w)'s steps are at most ⌈(d − 1)/w⌉ and it starts at 1 and
///     ends at d − ⌈(d − 1)/w⌉ or later: the latest input output i ≥ 1 depends on lies within ⌈(d − 1)/w⌉ − 1 of
///     i − 1 (it is i − 1 itself when w ≥ d − 1).
///   cyclic: unit j of every layer 1 + (j mod (d − 1)); with w &lt; d − 1 no unit has a degree above w, so outputs
///     past w never see the inputs right before them. Kept so that runs recorded with it load with their masks.
/// </summary>
public static class Made
{
    /// <summary>Degrees of d inputs: 1 … d, or d … 1 reversed.</summary>
    public static int[] InputDegrees(int d, bool reversed) =>
        Enumerable.Range(0, d).Select(i => reversed ? d - i : i + 1).ToArray();

    /// <summary>The degrees of each of the <paramref name="hidden"/> layers of a MADE over d ordered values (d ≥ 2), by <paramref name="rule"/>.</summary>
    public static int[][] HiddenDegrees(IReadOnlyList<int> hidden, int d, MadeDegrees rule)
    {
        int narrowest = hidden.Count == 0 ? 0 : hidden.Min();
        return hidden.Select(units => rule switch
        {
            MadeDegrees.Cyclic => Enumerable.Range(0, units).Select(j => 1 + j % (d - 1)).ToArray(),
            MadeDegrees.Spread => [.. Spread(narrowest, d), .. Spread(units - narrowest, d)],
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown MADE degree rule."),
        }).ToArray();
    }

    /// <summary>S(n): n degrees spaced evenly over 1 … d − 1, in increasing order.</summary>
    static int[] Spread(int units, int d) =>
        Enumerable.Range(0, units).Select(j => 1 + (int)((long)j * (d - 1) / units)).ToArray();

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
    public static IReadOnlyList<float[]> Masks(int[] inputDegrees, IReadOnlyList<int> hidden, MadeDegrees rule, int outputBlocks = 1)
    {
        var masks = new List<float[]>();
        var from = inputDegrees;
        foreach (var to in HiddenDegrees(hidden, inputDegrees.Length, rule))
        {
            masks.Add(Mask(to, from, output: false));
            from = to;
        }
        var outputs = Enumerable.Repeat(inputDegrees, outputBlocks).SelectMany(d => d).ToArray();
        masks.Add(Mask(outputs, from, output: true));
        return masks;
    }
}
