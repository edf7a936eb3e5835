using FsCheck;
using FsCheck.Fluent;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// What a MADE's degree rule lets each output see, read from the model's masks alone (which inputs reach an output
/// through the masked layers' nonzero entries): output i never reaches an input at or after position i in its order,
/// and with the spread rule the latest input it reaches lies within ⌈(d − 1)/w⌉ of i − 1, w the narrowest hidden
/// layer — at the default widths, at widths below d − 1, through layers of different widths, in a MADE decoder and in
/// the even and odd (reversed) steps of an IAF. The cyclic rule of older runs fails that below d − 1.
/// </summary>
public sealed class MadeDegreeTests
{
    /// <summary>One MADE of a model: its masked weights in order, and each input's position in the MADE's order.</summary>
    sealed record MadeMasks(string Name, IReadOnlyList<ParameterTensor> Layers, int[] Position);

    /// <summary>The decoder's MADE over d pixels in raster order.</summary>
    static MadeMasks Decoder(int d, int[] hidden, MadeDegrees rule)
    {
        var layout = ParameterLayout.Of(new ModelSpec(d, [4], 2, hidden, Decoder: DecoderKind.Made, MadeDegrees: rule));
        var layers = hidden.Select((_, l) => layout[$"decoder.made.{l}.weight"]).Append(layout["decoder.out.weight"]).ToList();
        return new($"decoder d={d} [{string.Join(",", hidden)}]", layers, Enumerable.Range(0, d).ToArray());
    }

    /// <summary>Flow step <paramref name="step"/>'s MADE over k dims of z, its m and s heads alike; odd steps read z in reverse.</summary>
    static IEnumerable<MadeMasks> FlowStep(int k, int[] hidden, int step, MadeDegrees rule)
    {
        var layout = ParameterLayout.Of(new ModelSpec(6, [5], k, [5], Flow: new FlowSpec(step + 1, hidden, 3), MadeDegrees: rule));
        var position = Enumerable.Range(0, k).Select(j => step % 2 == 0 ? j : k - 1 - j).ToArray();
        foreach (var head in new[] { "m", "s" })
            yield return new($"flow step {step} {head} k={k} [{string.Join(",", hidden)}]",
                hidden.Select((_, l) => layout[$"flow.{step}.made.{l}.weight"]).Append(layout[$"flow.{step}.{head}.weight"]).ToList(), position);
    }

    /// <summary>
    /// For each output (by its position in the order), the latest input position it can depend on, or −1 for none:
    /// the maximum over the inputs that some path of nonzero mask entries connects to it.
    /// </summary>
    static int[] LatestInputs(MadeMasks made)
    {
        int d = made.Position.Length;
        var latest = (int[])made.Position.Clone();
        foreach (var layer in made.Layers)
        {
            int outputs = layer.Shape[0], inputs = layer.Shape[1];
            var next = new int[outputs];
            for (int u = 0; u < outputs; u++)
            {
                next[u] = -1;
                for (int v = 0; v < inputs; v++)
                    if (layer.Mask![u * inputs + v] != 0) next[u] = Math.Max(next[u], latest[v]);
            }
            latest = next;
        }
        var byPosition = new int[d];
        for (int i = 0; i < d; i++) byPosition[made.Position[i]] = latest[i];
        return byPosition;
    }

    /// <summary>⌈(d − 1)/w⌉ for the narrowest hidden layer w; with no hidden layer, 0 (output i sees input i − 1 directly).</summary>
    static int Bound(int d, int[] hidden) => hidden.Length == 0 ? 0 : (d - 1 + hidden.Min() - 1) / hidden.Min();

    /// <summary>null where the masks keep every output before its own position and within the bound; else what breaks.</summary>
    static string? Violation(MadeMasks made, int bound)
    {
        var latest = LatestInputs(made);
        if (latest[0] != -1) return $"{made.Name}: output 0 reaches input {latest[0]}";
        for (int i = 1; i < latest.Length; i++)
        {
            if (latest[i] >= i) return $"{made.Name}: output {i} reaches input {latest[i]}, at or after its own";
            if (latest[i] < 0 || i - 1 - latest[i] > bound)
                return $"{made.Name}: output {i}'s latest input is {latest[i]}, more than {bound} before {i - 1}";
        }
        return null;
    }

    static void AssertHolds(MadeMasks made, int bound)
    {
        string? broken = Violation(made, bound);
        Assert.True(broken is null, broken);
    }

    /// <summary>The decoder's default 500 over 784 pixels and the flow's default 64 over 20 dims, narrower layers, and mixed widths.</summary>
    public static TheoryData<int, int[]> DecoderShapes => new()
    {
        { 784, [500] }, { 784, [300, 120, 200] }, { 784, [90, 700, 2000] }, { 100, [7] }, { 100, [40, 13] }, { 8, [10] }, { 9, [12, 5] },
        { 2, [1] }, { 6, [] },
    };

    public static TheoryData<int, int[]> FlowShapes => new()
    {
        { 20, [64] }, { 20, [5] }, { 20, [12, 7, 9] }, { 10, [3, 6] }, { 10, [30, 4] }, { 2, [1] },
    };

    [Theory]
    [MemberData(nameof(DecoderShapes))]
    public void TheSpreadRulesDecoderSeesUpToItsNeighbourhoodAndNothingAfter(int d, int[] hidden)
    {
        var made = Decoder(d, hidden, MadeDegrees.Spread);
        AssertHolds(made, Bound(d, hidden));
        // The rule does better than the bound it promises: within ⌈(d − 1)/w⌉ − 1, and i − 1 itself when w ≥ d − 1.
        AssertHolds(made, Math.Max(0, Bound(d, hidden) - 1));
    }

    [Theory]
    [MemberData(nameof(FlowShapes))]
    public void TheSpreadRulesFlowStepsSeeUpToTheirNeighbourhoodInTheirOrder(int k, int[] hidden)
    {
        foreach (int step in new[] { 0, 1 })
            foreach (var made in FlowStep(k, hidden, step, MadeDegrees.Spread))
            {
                AssertHolds(made, Bound(k, hidden));
                AssertHolds(made, Math.Max(0, Bound(k, hidden) - 1));
            }
    }

    [Fact]
    public void TheSpreadRuleHoldsOnRandomShapes()
    {
        var shapes = Gen.Choose(2, 60).SelectMany(d => Gen.Choose(1, 3).SelectMany(layers =>
            Gen.ArrayOf(Gen.Choose(1, 80), layers).Select(hidden => (d, hidden))));
        Prop.ForAll(shapes.ToArbitrary(), c =>
        {
            var (d, hidden) = c;
            var mades = FlowStep(d, hidden, 1, MadeDegrees.Spread).Prepend(Decoder(d, hidden, MadeDegrees.Spread));
            var broken = mades.Select(m => Violation(m, Bound(d, hidden))).FirstOrDefault(v => v is not null);
            return broken is null ? true : throw new Xunit.Sdk.XunitException(broken);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(100).WithQuietOnSuccess(true));
    }

    /// <summary>The cyclic rule stops at degree w: the outputs past w + 1 never see the inputs right before them.</summary>
    [Theory]
    [InlineData(784, new[] { 500 })]
    [InlineData(100, new[] { 40, 13 })]
    [InlineData(20, new[] { 5 })]
    public void TheCyclicRuleBreaksTheBoundBelowDMinusOne(int d, int[] hidden)
    {
        Assert.NotNull(Violation(Decoder(d, hidden, MadeDegrees.Cyclic), Bound(d, hidden)));
        Assert.All(FlowStep(d, hidden, 1, MadeDegrees.Cyclic), made => Assert.NotNull(Violation(made, Bound(d, hidden))));
        // Still autoregressive: what it breaks is only the reach.
        AssertHolds(Decoder(d, hidden, MadeDegrees.Cyclic), d);
    }

    [Fact]
    public void TheRulesAgreeWhereTheyMustAndTheSpreadOneNestsTheNarrowestLayer()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], Made.HiddenDegrees([7], 8, MadeDegrees.Spread)[0]);
        Assert.Equal([1, 3, 5, 7], Made.HiddenDegrees([4], 9, MadeDegrees.Spread)[0]);
        Assert.Equal([1, 2, 3, 4, 1, 2, 3, 4], Made.HiddenDegrees([8], 5, MadeDegrees.Cyclic)[0]);
        var layers = Made.HiddenDegrees([6, 3, 5], 10, MadeDegrees.Spread);
        Assert.Equal([1, 4, 7], layers[1]);
        Assert.Equal([1, 4, 7, 1, 4, 7], layers[0]);
        Assert.Equal([1, 4, 7, 1, 5], layers[2]);
        Assert.All(layers.SelectMany(l => l), m => Assert.InRange(m, 1, 9));
    }
}
