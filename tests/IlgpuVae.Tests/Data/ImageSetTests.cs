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
}
