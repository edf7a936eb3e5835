using IlgpuVae.Data;

namespace IlgpuVae.Tests.Data;

public sealed class ImageSetTests
{
    static ImageSet Three() => new("three", 1, 2, [0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f], [0, 1, 2], ["a", "b", "c"],
        [10f, 11f, 20f, 21f, 30f, 31f], ["f", "g"]);

    [Fact]
    public void SliceCopiesRowsOfEveryArray()
    {
        ImageSet set = Three();

        ImageSet slice = set.Slice(1, 2);

        Assert.Equal((2, 1, 2, 2), (slice.Count, slice.Height, slice.Width, slice.Dim));
        Assert.Equal([0.2f, 0.3f, 0.4f, 0.5f], slice.Pixels);
        Assert.Equal([1, 2], slice.Labels);
        Assert.Equal([20f, 21f, 30f, 31f], slice.Factors!);
        Assert.Equal(set.LabelNames, slice.LabelNames);
        Assert.Equal("three[1:3]", slice.Name);
        slice.Pixels[0] = 1f;
        Assert.Equal(0.2f, set.Pixels[2]);
    }

    [Fact]
    public void SliceRejectsOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Three().Slice(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Three().Slice(-1, 1));
    }

    [Fact]
    public void UnlabelledImagesAreCountedFromTheirPixels()
    {
        var set = new ImageSet("x", 2, 3, new float[4 * 2 * 3 * 3], channels: 3);
        Assert.Equal(4, set.Count);
        Assert.Equal([-1, -1, -1, -1], set.Labels);
        Assert.Empty(set.LabelNames);
        var e = Assert.Throws<ArgumentException>(() => new ImageSet("x", 2, 3, new float[19]));
        Assert.Contains("19 values do not make whole images of 2×3 (6 values each)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ImageSet("x", 2, 3, new float[18], [0, 1]));
        Assert.Contains("make 3 images of 2×3, but 2 labels are given", e.Message);
    }

    [Fact]
    public void ConstructorRejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => new ImageSet("x", 2, 2, new float[7], [0, 0], []));
        Assert.Throws<ArgumentException>(() => new ImageSet("x", 1, 1, new float[2], [0, 0], [], new float[3], ["f", "g"]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-0.01f)]
    [InlineData(1.5f)]
    public void ValidateNamesSetImageAndValue(float bad)
    {
        ImageSet set = Three();
        set.Pixels[5] = bad;

        var e = Assert.Throws<DataFormatException>(() => ImageSet.Validate(set));

        Assert.Contains("'three'", e.Message);
        Assert.Contains("image 2", e.Message);
        Assert.Contains(bad.ToString(), e.Message);
    }

    [Fact]
    public void ValidateAcceptsUnitInterval() => ImageSet.Validate(Three());

    /// <summary>Two RGB images of 1×2, channel-major: image i, channel c, pixel p holds i·0.5 + c·0.1 + p·0.01.</summary>
    static ImageSet TwoColour() => new("rgb", 1, 2,
        Enumerable.Range(0, 12).Select(k => k / 6 * 0.5f + k % 6 / 2 * 0.1f + k % 2 * 0.01f).ToArray(),
        [4, 5], [], channels: 3);

    [Fact]
    public void ColourImagesHoldAllTheirChannels()
    {
        ImageSet set = TwoColour();

        Assert.Equal((1, 3, 1, 2, 6), (Three().Channels, set.Channels, set.Height, set.Width, set.Dim));
        Assert.Equal("1×2 with 3 channels", set.Shape);
        Assert.Equal("1×2", Three().Shape);
        ImageSet slice = set.Slice(1, 1);
        Assert.Equal((1, 3, 6), (slice.Count, slice.Channels, slice.Dim));
        Assert.Equal([0.5f, 0.51f, 0.6f, 0.61f, 0.7f, 0.71f], slice.Pixels);
        Assert.Equal([5], slice.Labels);
    }

    [Fact]
    public void ConstructorCountsChannels()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageSet("x", 2, 2, new float[8], [0, 0], [], channels: 3));
        Assert.Contains("2×2 with 3 channels", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageSet("x", 2, 2, [], [], [], channels: 0));
    }

    [Fact]
    public void ValidateNamesTheChannelOfAColourPixel()
    {
        ImageSet set = TwoColour();
        set.Pixels[6 + 5] = 2f; // image 1, channel 2, pixel 1

        var e = Assert.Throws<DataFormatException>(() => ImageSet.Validate(set));

        Assert.Contains("image 1 has pixel 1 of channel 2 = 2", e.Message);
    }
}
