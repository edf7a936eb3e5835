using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The PixelCNN's masks (<see cref="PixelCnn"/>), from the masks alone: through the stacked layers, output value i's
/// receptive field holds only values before i in the drawing order — and the values the order promises it: the
/// earlier channels of its pixel, the pixel to its left and the pixel above. Then the rule's parts one by one —
/// channel groups, the centre tap of types A and B, the taps after the centre — the layouts, and the parameter names.
/// </summary>
public sealed class PixelCnnMaskTests
{
    public static TheoryData<int, int, int, int, int, int, int> Stacks() => new()
    {
        // channels, height, width, features, type-B layers, kernel, first kernel
        { 1, 5, 7, 2, 2, 3, 3 },
        { 1, 4, 4, 1, 0, 1, 5 },
        { 3, 5, 7, 4, 1, 5, 3 },
        { 3, 3, 4, 3, 2, 3, 5 },
        { 3, 4, 3, 7, 1, 1, 3 },
        { 2, 3, 5, 5, 1, 3, 3 },
    };

    /// <summary>The data values (NCHW indices, as bits) that each output value (NCHW index) depends on, through every mask's connections.</summary>
    static bool[][] ReceptiveFields(PixelCnnSpec spec)
    {
        var image = spec.Image;
        int hw = image.Pixels, d = image.Size;
        var fields = Enumerable.Range(0, d).Select(e => Enumerable.Range(0, d).Select(j => j == e).ToArray()).ToArray();
        foreach (var c in spec.Convs())
        {
            var mask = PixelCnn.Mask(c.Kernel, c.InChannels, c.OutChannels, image.Channels, c.TypeA);
            int r = c.Kernel / 2;
            var next = new bool[c.OutChannels * hw][];
            for (int o = 0; o < c.OutChannels; o++)
                for (int p = 0; p < hw; p++)
                {
                    var field = new bool[d];
                    int y = p / image.Width, x = p % image.Width;
                    for (int ky = 0; ky < c.Kernel; ky++)
                        for (int kx = 0; kx < c.Kernel; kx++)
                        {
                            int iy = y + ky - r, ix = x + kx - r;
                            if (iy < 0 || iy >= image.Height || ix < 0 || ix >= image.Width) continue;
                            for (int i = 0; i < c.InChannels; i++)
                                if (mask[((ky * c.Kernel + kx) * c.InChannels + i) * c.OutChannels + o] != 0f)
                                    for (int j = 0; j < d; j++) field[j] |= fields[i * hw + iy * image.Width + ix][j];
                        }
                    next[o * hw + p] = field;
                }
            fields = next;
        }
        return fields;
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public void EachValueSeesOnlyEarlierValuesAndItsNeighbours(int channels, int height, int width, int features, int layers, int kernel, int first)
    {
        var image = new ImageShape(channels, height, width);
        var fields = ReceptiveFields(new PixelCnnSpec(image, features, layers, kernel, first));
        int hw = image.Pixels;
        for (int e = 0; e < image.Size; e++)
        {
            int c = e / hw, p = e % hw, position = PixelCnn.PositionOf(e, image);
            var seen = Enumerable.Range(0, image.Size).Where(j => fields[e][j]).ToList();
            Assert.All(seen, j => Assert.True(PixelCnn.PositionOf(j, image) < position,
                $"value (c {c}, pixel {p}) depends on (c {j / hw}, pixel {j % hw}), which is not before it"));
            // The earlier channels of its own pixel, the whole pixel to its left and the whole pixel above. So the value
            // just before it is seen — the channel before it, or the left pixel's last — except at a row's start, where
            // that is the end of the row above: outside a PixelCNN's receptive field unless the image is narrow.
            var promised = Enumerable.Range(0, c).Select(q => q * hw + p)
                .Concat(p % width > 0 ? Enumerable.Range(0, channels).Select(q => q * hw + p - 1) : [])
                .Concat(p >= width ? Enumerable.Range(0, channels).Select(q => q * hw + p - width) : []);
            Assert.All(promised, j => Assert.True(fields[e][j], $"value (c {c}, pixel {p}) does not see (c {j / hw}, pixel {j % hw})"));
            if (position > 0 && (c > 0 || p % width > 0)) Assert.Contains(PixelCnn.ValueAt(position - 1, image), seen);
        }
        // The first value depends on nothing but z.
        Assert.DoesNotContain(true, fields[0]);
    }

    [Fact]
    public void GroupsAreContiguousNonEmptyAndEvenForAnyChannelCount()
    {
        for (int colours = 1; colours <= 3; colours++)
        {
            for (int c = 0; c < colours; c++) Assert.Equal(c, PixelCnn.Group(c, colours, colours));
            for (int n = colours; n <= 13; n++)
            {
                var groups = Enumerable.Range(0, n).Select(j => PixelCnn.Group(j, n, colours)).ToArray();
                Assert.Equal(groups.OrderBy(g => g), groups);
                var sizes = Enumerable.Range(0, colours).Select(g => groups.Count(h => h == g)).ToArray();
                Assert.All(sizes, s => Assert.InRange(s, n / colours, (n + colours - 1) / colours));
            }
        }
    }

    [Fact]
    public void GreyCentresAreEmptyForTypeAAndFullForTypeB()
    {
        // PyTorch's layout [out, in, K, K]: one channel each way, so the kernel itself.
        float[] File(bool typeA)
        {
            var kept = PixelCnn.Mask(3, 1, 1, 1, typeA);
            var file = new float[9];
            var index = PixelCnn.FileIndex(3, 1, 1);
            for (int i = 0; i < 9; i++) file[index(i)] = kept[i];
            return file;
        }
        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 0, 0], File(typeA: true));
        Assert.Equal([1, 1, 1, 1, 1, 0, 0, 0, 0], File(typeA: false));
    }

    [Fact]
    public void ColourCentresSeeEarlierGroupsForTypeAAndTheirOwnForTypeB()
    {
        // 1×1 from 3 colours to 3: the centre alone, [in, out].
        var a = PixelCnn.Mask(1, 3, 3, 3, typeA: true);
        var b = PixelCnn.Mask(1, 3, 3, 3, typeA: false);
        for (int i = 0; i < 3; i++)
            for (int o = 0; o < 3; o++)
            {
                Assert.Equal(o > i ? 1f : 0f, a[i * 3 + o]);
                Assert.Equal(o >= i ? 1f : 0f, b[i * 3 + o]);
            }
        // 6 features from 3 colours, 5×5: every tap before the centre full, none after it, the centre by groups of two.
        var mask = PixelCnn.Mask(5, 3, 6, 3, typeA: true);
        for (int t = 0; t < 25; t++)
            for (int i = 0; i < 3; i++)
                for (int o = 0; o < 6; o++)
                    Assert.Equal(t < 12 || t == 12 && o / 2 > i ? 1f : 0f, mask[(t * 3 + i) * 6 + o]);
    }

    [Fact]
    public void TheFileIndexIsAPermutationOntoPyTorchsLayout()
    {
        const int k = 3, ci = 2, co = 5;
        var index = PixelCnn.FileIndex(k, ci, co);
        var files = Enumerable.Range(0, k * k * ci * co).Select(index).ToArray();
        Assert.Equal(Enumerable.Range(0, files.Length), files.OrderBy(f => f));
        // Kept (tap 4 = centre, input 1, output 3) is PyTorch's [3, 1, 1, 1].
        Assert.Equal(((3 * ci + 1) * k + 1) * k + 1, index((4 * ci + 1) * co + 3));
    }

    [Fact]
    public void TheDrawingOrderIsPixelMajorWithChannelsWithinAPixel()
    {
        var image = new ImageShape(3, 2, 3);
        var order = Enumerable.Range(0, image.Size).Select(q => PixelCnn.ValueAt(q, image)).ToArray();
        Assert.Equal([0, 6, 12, 1, 7, 13], order[..6]);
        Assert.All(Enumerable.Range(0, image.Size), q => Assert.Equal(q, PixelCnn.PositionOf(PixelCnn.ValueAt(q, image), image)));
    }

    [Fact]
    public void TheLayoutHasPyTorchsNamesShapesAndFanIns()
    {
        var layout = new PixelCnnLayout(new PixelCnnSpec(new ImageShape(3, 5, 7), 8, 2, 5, 7), 4, Activation.Relu, 100);
        var t = layout.Tensors;
        Assert.Equal(["decoder.pixelcnn.0.weight", "decoder.pixelcnn.0.cond.weight", "decoder.pixelcnn.0.bias",
            "decoder.pixelcnn.1.weight", "decoder.pixelcnn.1.cond.weight", "decoder.pixelcnn.1.bias",
            "decoder.pixelcnn.2.weight", "decoder.pixelcnn.2.cond.weight", "decoder.pixelcnn.2.bias",
            "decoder.out.weight", "decoder.out.cond.weight", "decoder.out.bias"], t.Select(x => x.Name));
        Assert.Equal([8, 3, 7, 7], t[0].Shape);
        Assert.Equal([8, 4], t[1].Shape);
        Assert.Equal([8, 8, 5, 5], t[3].Shape);
        Assert.Equal([3, 8, 1, 1], t[9].Shape);
        Assert.Equal([3, 4], t[10].Shape);
        Assert.Equal([3 * 49, 4, 3 * 49, 8 * 25, 4, 8 * 25, 8 * 25, 4, 8 * 25, 8, 4, 8], t.Select(x => x.FanIn));
        Assert.Equal(100, t[0].Offset);
        for (int i = 1; i < t.Count; i++) Assert.Equal(t[i - 1].Offset + t[i - 1].Length, t[i].Offset);
        Assert.Equal(t[^1].Offset + t[^1].Length, layout.End);
        Assert.All(t, x => Assert.Equal(x.Name.EndsWith(".weight") && !x.Name.EndsWith("cond.weight"), x.Mask is not null));
        Assert.Equal([Activation.Relu, Activation.Relu, Activation.Relu, Activation.Identity], layout.Layers.Select(l => l.Activation));
        Assert.Equal(3 * 35, layout.Layers[^1].Outputs);
    }

    [Theory]
    [InlineData(3, 2, 1, 3, 3)] // fewer features than colours
    [InlineData(1, 4, 1, 3, 1)] // a 1×1 type-A layer
    [InlineData(1, 4, 1, 4, 3)] // an even kernel
    [InlineData(1, 4, -1, 3, 3)]
    public void BadShapesAreRefusedSayingWhy(int channels, int features, int layers, int kernel, int first)
    {
        var spec = new PixelCnnSpec(new ImageShape(channels, 4, 4), features, layers, kernel, first);
        var e = Assert.Throws<ArgumentException>(() => spec.Convs());
        Assert.Contains("PixelCNN", e.Message);
    }
}
