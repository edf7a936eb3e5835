using IlgpuVae.Data;
using IlgpuVae.Tests.Infrastructure;
using static IlgpuVae.Tests.Data.IdxFiles;

namespace IlgpuVae.Tests.Data;

public sealed class LoadImagesTests : IDisposable
{
    readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ScalesPixelsAndReadsLabels()
    {
        File.WriteAllBytes(_temp.File("images"), Encode([0, 51, 255, 102, 1, 2, 3, 4], 2, 2, 2));
        File.WriteAllBytes(_temp.File("labels"), Gzip(Encode([1, 0], 2)));

        ImageSet set = IdxReader.LoadImages(_temp.File("images"), _temp.File("labels"), "tiny", ["a", "b"]);

        Assert.Equal((2, 2, 2, 4), (set.Count, set.Height, set.Width, set.Dim));
        Assert.Equal([0f, 0.2f, 1f, 0.4f, 1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f], set.Pixels);
        Assert.Equal([1, 0], set.Labels);
        Assert.Equal(["a", "b"], set.LabelNames);
        Assert.Equal("tiny", set.Name);
    }

    [Fact]
    public void MissingLabelsGiveMinusOne()
    {
        File.WriteAllBytes(_temp.File("images"), Encode(Pattern(12), 3, 2, 2));

        ImageSet set = IdxReader.LoadImages(_temp.File("images"), null, "unlabelled", []);

        Assert.Equal([-1, -1, -1], set.Labels);
    }

    [Fact]
    public void CountMismatchNamesBothFilesAndCounts()
    {
        File.WriteAllBytes(_temp.File("images"), Encode(Pattern(12), 3, 2, 2));
        File.WriteAllBytes(_temp.File("labels"), Encode([0, 1], 2));

        var e = Assert.Throws<DataFormatException>(
            () => IdxReader.LoadImages(_temp.File("images"), _temp.File("labels"), "bad", []));

        Assert.Contains(_temp.File("images"), e.Message);
        Assert.Contains(_temp.File("labels"), e.Message);
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void RejectsWrongRanks()
    {
        File.WriteAllBytes(_temp.File("flat"), Encode(Pattern(4), 4));
        File.WriteAllBytes(_temp.File("images"), Encode(Pattern(4), 1, 2, 2));

        var images = Assert.Throws<DataFormatException>(() => IdxReader.LoadImages(_temp.File("flat"), null, "x", []));
        var labels = Assert.Throws<DataFormatException>(
            () => IdxReader.LoadImages(_temp.File("images"), _temp.File("images"), "x", []));

        Assert.Contains("3-D", images.Message);
        Assert.Contains("1-D", labels.Message);
    }

    [Fact]
    public void RejectsLabelWithoutName()
    {
        File.WriteAllBytes(_temp.File("images"), Encode(Pattern(4), 1, 2, 2));
        File.WriteAllBytes(_temp.File("labels"), Encode([10], 1));

        var e = Assert.Throws<DataFormatException>(
            () => IdxReader.LoadImages(_temp.File("images"), _temp.File("labels"), "digits", ["0", "1"]));

        Assert.Contains("label 0 is 10", e.Message);
    }
}
