using IlgpuVae.Data;
using IlgpuVae.Tests.Infrastructure;
using SkiaSharp;
using static IlgpuVae.Tests.Data.ImageFiles;

namespace IlgpuVae.Tests.Data;

/// <summary>A folder of PNG and JPEG files as a data set, through <see cref="DataSources.Load"/>.</summary>
public sealed class ImageFolderTests : IDisposable
{
    readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    static (ImageSet Train, ImageSet Test) Load(string folder, DataOptions? options = null) =>
        DataSources.Load(folder, options ?? new DataOptions());

    /// <summary><paramref name="count"/> flat grey PNGs of 6×5, file i filled with <see cref="ImageFiles.Level"/>(i).</summary>
    string FlatGrey(string name, int count, string extension = ".png")
    {
        string folder = _temp.File(name);
        for (int i = 0; i < count; i++)
            Grey(Path.Combine(folder, $"img{i:D3}{extension}"), 6, 5, Level(i));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The number each image of the set encodes in its first pixel (see <see cref="ImageFiles.Level"/>).</summary>
    static int[] Numbers(ImageSet set) =>
        Enumerable.Range(0, set.Count).Select(i => (int)MathF.Round((set.Pixels[i * set.Dim] * 255 - 3) / 7)).ToArray();

    static float[] Image(ImageSet set, int i) => set.Pixels.AsSpan(i * set.Dim, set.Dim).ToArray();

    [Fact]
    public void FlatGreyPngsBecomeUnlabelledGreyImagesOfTheirOwnSize()
    {
        var log = new StringWriter();
        var (train, test) = Load(FlatGrey("flat", 20), new DataOptions { Log = log });

        Assert.Equal((1, 5, 5, 25), (train.Channels, train.Height, train.Width, train.Dim)); // 6×5 cropped to 5×5
        Assert.Equal((1, 5, 5), (test.Channels, test.Height, test.Width));
        Assert.Equal((18, 2), (train.Count, test.Count));
        Assert.Equal(("flat/train", "flat/test"), (train.Name, test.Name));
        Assert.All(train.Labels, l => Assert.Equal(-1, l));
        Assert.Empty(train.LabelNames);
        // Same size: an exact copy. Every file lands in exactly one of the two sets.
        for (int i = 0; i < train.Count; i++)
            Assert.All(Image(train, i), v => Assert.Equal(train.Pixels[i * train.Dim], v));
        Assert.Equal(Enumerable.Range(0, 20), Numbers(train).Concat(Numbers(test)).Order());
        Assert.Equal(Level(Numbers(test)[0]) / 255f, test.Pixels[0]);
        Assert.Contains("20 image files", log.ToString());
        Assert.Contains("every image is grey", log.ToString());
        ImageSet.Validate(train);
    }

    [Fact]
    public void ClassSubfoldersGiveLabelsInOrdinalOrderOfTheirNames()
    {
        string folder = _temp.File("classes");
        string[] classes = ["b-cats", "a-dogs", "C-birds"]; // ordinal: "C-birds" < "a-dogs" < "b-cats"
        for (int c = 0; c < classes.Length; c++)
            for (int i = 0; i < 4; i++)
                Grey(Path.Combine(folder, classes[c], i % 2 == 0 ? "deeper" : "", $"{i}.{(i == 3 ? "JPG" : "png")}"), 4, 4, Level(10 * c + i));
        Directory.CreateDirectory(Path.Combine(folder, "d-empty"));
        File.WriteAllText(Path.Combine(folder, "a-dogs", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(folder, "a-dogs", ".hidden.png"), "not read");
        Directory.CreateDirectory(Path.Combine(folder, ".cache"));
        File.WriteAllText(Path.Combine(folder, ".cache", "x.png"), "not read");

        var (train, test) = Load(folder, new DataOptions { TestFraction = 0.25 });

        Assert.Equal(["C-birds", "a-dogs", "b-cats"], train.LabelNames);
        Assert.Equal((9, 3), (train.Count, test.Count));
        int[] expected = [2, 1, 0]; // the label of original class c
        foreach (var set in new[] { train, test })
        {
            int[] numbers = Numbers(set);
            for (int i = 0; i < set.Count; i++)
                Assert.Equal(expected[numbers[i] / 10], set.Labels[i]);
        }
    }

    [Fact]
    public void ColourPngsGiveThreeChannelPlanes()
    {
        string folder = _temp.File("colour");
        // Left column red, middle green, right blue; file i scales them by (i + 1) / 4.
        for (int i = 0; i < 3; i++)
        {
            byte v = (byte)(63 * (i + 1));
            Write(Path.Combine(folder, $"{i}.png"), 3, 3, (x, _) => x == 0 ? new SKColor(v, 0, 0) : x == 1 ? new SKColor(0, v, 0) : new SKColor(0, 0, v));
        }
        Grey(Path.Combine(folder, "3.png"), 3, 3, 200);

        var (train, test) = Load(folder, new DataOptions { TestFraction = 0.25 });

        Assert.Equal((3, 3, 3, 27), (train.Channels, train.Height, train.Width, train.Dim));
        Assert.Equal(3, test.Channels);
        foreach (var set in new[] { train, test })
            for (int i = 0; i < set.Count; i++)
            {
                float[] image = Image(set, i);
                if (image[0] == image[9]) // the grey one: three equal planes
                {
                    Assert.All(image, p => Assert.Equal(200 / 255f, p));
                    continue;
                }
                float v = image[0];
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 3; y++)
                        for (int x = 0; x < 3; x++)
                            Assert.Equal(x == c ? v : 0f, image[c * 9 + y * 3 + x]);
            }
    }

    [Fact]
    public void ColourAndGreyJpegsAreToldApartByTheirPixels()
    {
        string grey = FlatGrey("grey-jpeg", 4, ".jpeg");
        string colour = _temp.File("colour-jpeg");
        for (int i = 0; i < 4; i++)
            Write(Path.Combine(colour, $"{i}.jpg"), 8, 8, (_, _) => new SKColor(200, 40, 90));

        var (greyTrain, _) = Load(grey);
        var (colourTrain, _) = Load(colour);

        Assert.Equal(1, greyTrain.Channels);
        Assert.Equal(3, colourTrain.Channels);
        float[] image = Image(colourTrain, 0);
        Assert.InRange(image[0], 190 / 255f, 210 / 255f);
        Assert.InRange(image[64], 30 / 255f, 50 / 255f);
        Assert.InRange(image[128], 80 / 255f, 100 / 255f);
    }

    [Fact]
    public void OneChannelAskedForGivesLumaThreeGivesEqualPlanes()
    {
        string folder = _temp.File("rgb");
        Write(Path.Combine(folder, "r.png"), 2, 2, (_, _) => new SKColor(255, 0, 0));
        Write(Path.Combine(folder, "g.png"), 2, 2, (_, _) => new SKColor(0, 255, 0));
        Write(Path.Combine(folder, "b.png"), 2, 2, (_, _) => new SKColor(0, 0, 255));

        var (train, test) = Load(folder, new DataOptions { Channels = 1, TestFraction = 0.3 });
        var lumas = Enumerable.Range(0, train.Count).Select(i => train.Pixels[i * 4])
            .Concat(Enumerable.Range(0, test.Count).Select(i => test.Pixels[i * 4])).Order().ToArray();
        Assert.Equal(1, train.Channels);
        Assert.Equal([0.114f, 0.299f, 0.587f], lumas, (a, b) => MathF.Abs(a - b) < 1e-6f);

        var (grey3, _) = Load(FlatGrey("grey3", 3), new DataOptions { Channels = 3 });
        Assert.Equal(3, grey3.Channels);
        float[] image = Image(grey3, 0);
        Assert.Equal(image[..25], image[25..50]);
        Assert.Equal(image[..25], image[50..]);
    }

    [Fact]
    public void TransparencyIsCompositedOnBlack()
    {
        string folder = _temp.File("alpha");
        Write(Path.Combine(folder, "half.png"), 2, 2, (_, _) => new SKColor(255, 255, 255, 128));
        Write(Path.Combine(folder, "clear.png"), 2, 2, (_, _) => new SKColor(255, 0, 0, 0));

        var (train, test) = Load(folder, new DataOptions { TestFraction = 0.5 });

        Assert.Equal(1, train.Channels); // fully transparent red is black, so both are grey
        float[] values = [.. train.Pixels, .. test.Pixels];
        Assert.Equal([0f, 0f, 0f, 0f, 128 / 255f, 128 / 255f, 128 / 255f, 128 / 255f], values.Order());
    }

    [Theory]
    [InlineData(20, 12, 30)] // enlarged (cubic)
    [InlineData(38, 22, 8)]  // shrunk (mipmaps)
    [InlineData(22, 38, 8)]  // portrait, cropped top and bottom
    [InlineData(51, 31, 31)] // cropped only
    public void CentreCropAndResizeKeepAPattern(int width, int height, int size)
    {
        // White left half (x < width / 2) and, to see rows as well, a black bottom quarter.
        string folder = _temp.File("odd");
        for (int i = 0; i < 3; i++)
            Write(Path.Combine(folder, $"{i}.png"), width, height,
                (x, y) => 2 * x < width && 4 * y < 3 * height ? SKColors.White : SKColors.Black);

        var (train, _) = Load(folder, new DataOptions { ImageSize = size });

        Assert.Equal((1, size, size), (train.Channels, train.Height, train.Width));
        float[] image = Image(train, 0);
        int side = Math.Min(width, height), left = (width - side) / 2, top = (height - side) / 2;
        double ratio = (double)side / size, margin = 1.5 * Math.Max(ratio, 1); // the filters' reach, in source pixels
        int white = 0, black = 0;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                // Where this output pixel's centre lies in the original image.
                double sourceX = left + (x + 0.5) * ratio, sourceY = top + (y + 0.5) * ratio;
                float v = image[y * size + x];
                if (sourceX < width / 2.0 - margin && sourceY < 0.75 * height - margin)
                {
                    Assert.True(v > 0.9f, $"({x}, {y}) = {v} should be white");
                    white++;
                }
                if (sourceX > width / 2.0 + margin || sourceY > 0.75 * height + margin)
                {
                    Assert.True(v < 0.1f, $"({x}, {y}) = {v} should be black");
                    black++;
                }
            }
        Assert.True(white >= size * size / 8 && black >= size * size / 4, $"{white} white and {black} black pixels checked");
    }

    [Fact]
    public void DifferentSizesAreResizedToTheSizeAskedFor()
    {
        string folder = _temp.File("sizes");
        Grey(Path.Combine(folder, "a.png"), 4, 4, 10);
        Grey(Path.Combine(folder, "b.jpg"), 33, 17, 100);
        Grey(Path.Combine(folder, "c.png"), 1024, 640, 250);

        var (train, test) = Load(folder, new DataOptions { ImageSize = 7, TestFraction = 0.3 });

        Assert.Equal((2, 1, 7, 7), (train.Count, test.Count, train.Height, test.Width));
        float[] firsts = [.. train.Pixels.Where((_, i) => i % 49 == 0), test.Pixels[0]];
        Assert.Equal([10 / 255f, 100 / 255f, 250 / 255f], firsts.Order(), (a, b) => MathF.Abs(a - b) <= 3 / 255f);
    }

    [Fact]
    public void ExifOrientationIsApplied()
    {
        // Stored with a white top row; orientation 6 means "rotate 90° clockwise to view", putting it on the right.
        string folder = _temp.File("exif");
        for (int i = 0; i < 2; i++)
        {
            string path = Write(Path.Combine(folder, $"{i}.jpg"), 16, 16, (_, y) => y < 4 ? SKColors.White : SKColors.Black);
            SetExifOrientation(path, 6);
        }

        var (train, _) = Load(folder);

        float[] image = Image(train, 0);
        Assert.True(image[8 * 16 + 15] > 0.9f, "the right column should be white");
        Assert.True(image[0 * 16 + 8] < 0.1f, "the top row should be black");
    }

    [Fact]
    public void TheSplitIsASeededShuffleOfTheSortedFiles()
    {
        string folder = FlatGrey("split", 30);

        var a = Load(folder, new DataOptions { Seed = 5 });
        var b = Load(folder, new DataOptions { Seed = 5 });
        var c = Load(folder, new DataOptions { Seed = 6 });

        Assert.Equal(Numbers(a.Train), Numbers(b.Train));
        Assert.Equal(Numbers(a.Test), Numbers(b.Test));
        Assert.Equal(a.Train.Pixels, b.Train.Pixels);
        Assert.NotEqual(Numbers(a.Test).Order(), Numbers(c.Test).Order());
        Assert.NotEqual(Enumerable.Range(0, 27), Numbers(a.Train)); // shuffled, not in file order
        // The split comes from the sorted file list, not from the order the folder lists its files in.
        File.Move(Path.Combine(folder, "img000.png"), Path.Combine(folder, "tmp.png"));
        File.Move(Path.Combine(folder, "tmp.png"), Path.Combine(folder, "img000.png"));
        Assert.Equal(Numbers(a.Test), Numbers(Load(folder, new DataOptions { Seed = 5 }).Test));
    }

    [Theory]
    [InlineData(0.25, 10)]
    [InlineData(0.1, 4)]
    [InlineData(0.01, 1)]  // at least one test image
    [InlineData(0.99, 39)] // at least one training image
    public void TestFractionIsHonoured(double fraction, int testCount)
    {
        var (train, test) = Load(FlatGrey("fraction", 40), new DataOptions { TestFraction = fraction });

        Assert.Equal((40 - testCount, testCount), (train.Count, test.Count));
    }

    [Fact]
    public void AFolderWithIdxFilesStaysAnIdxDataSet()
    {
        string folder = _temp.File("both");
        IdxFiles.WriteSet(folder, DataSources.TrainImages, null, 3, 5, 4, salt: 1);
        IdxFiles.WriteSet(folder, DataSources.TestImages, null, 2, 5, 4, salt: 2);
        Grey(Path.Combine(folder, "stray.png"), 8, 8, 0);
        Grey(Path.Combine(folder, "other.png"), 8, 8, 0);

        var (train, test) = Load(folder);

        Assert.Equal((3, 2, 5, 4), (train.Count, test.Count, train.Height, train.Width));
    }

    [Fact]
    public void LoadingIsParallelButTheSameEveryTime()
    {
        string folder = _temp.File("many");
        for (int i = 0; i < 60; i++)
            Write(Path.Combine(folder, $"{i:D2}.{(i % 2 == 0 ? "png" : "jpg")}"), 12, 12,
                (x, y) => new SKColor((byte)(x * 20 + i), (byte)(y * 20), (byte)(i * 4)));

        var a = Load(folder, new DataOptions { ImageSize = 9 });
        var b = Load(folder, new DataOptions { ImageSize = 9 });

        Assert.Equal(3, a.Train.Channels);
        Assert.Equal(a.Train.Pixels, b.Train.Pixels);
        Assert.Equal(a.Test.Pixels, b.Test.Pixels);
    }

    // ---- refusals: one DataFormatException (or ArgumentException for options) naming the file or value ----

    [Fact]
    public void AnEmptyFolderIsRefused()
    {
        string folder = _temp.File("empty");
        Directory.CreateDirectory(Path.Combine(folder, "class-without-images"));
        File.WriteAllText(Path.Combine(folder, "readme.txt"), "");

        var e = Assert.Throws<DataFormatException>(() => Load(folder));

        Assert.Contains(folder, e.Message);
        Assert.Contains("no image files", e.Message);
        Assert.Contains(".png", e.Message);
    }

    [Fact]
    public void OneImageIsRefused()
    {
        var e = Assert.Throws<DataFormatException>(() => Load(FlatGrey("single", 1)));

        Assert.Contains("only one image file ('img000.png')", e.Message);
        Assert.Contains("at least 2", e.Message);
    }

    [Fact]
    public void ASingleImageFileAsDataIsRefused()
    {
        string path = Path.Combine(FlatGrey("one-file", 2), "img000.png");

        var e = Assert.Throws<DataFormatException>(() => Load(path));

        Assert.Contains("single image file", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACorruptFileIsNamed(bool truncated)
    {
        string folder = FlatGrey("corrupt", 5);
        string bad = Path.Combine(folder, "img002.png");
        byte[] bytes = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, truncated ? bytes[..(bytes.Length / 2)] : [.. "not a png at all"u8]);
        File.WriteAllBytes(Path.Combine(folder, "img004.jpg"), [.. "neither"u8]); // a later bad file is not the one named

        foreach (int? size in new int?[] { null, 4 })
        {
            var e = Assert.Throws<DataFormatException>(() => Load(folder, new DataOptions { ImageSize = size }));
            Assert.Contains(bad, e.Message);
            Assert.Contains("cannot be decoded", e.Message);
        }
    }

    [Fact]
    public void AnUnreadableFileIsNamed()
    {
        string folder = FlatGrey("dangling", 3);
        string link = Path.Combine(folder, "img001.png");
        File.Delete(link);
        File.CreateSymbolicLink(link, Path.Combine(folder, "missing.png"));

        var e = Assert.Throws<DataFormatException>(() => Load(folder));

        Assert.Contains(link, e.Message);
        Assert.Contains("cannot be read", e.Message);
    }

    [Fact]
    public void AnImageSmallerThanTwoByTwoIsRefused()
    {
        string folder = FlatGrey("tiny", 3);
        Grey(Path.Combine(folder, "thin.png"), 5, 1, 0);

        foreach (int? size in new int?[] { null, 4 })
        {
            var e = Assert.Throws<DataFormatException>(() => Load(folder, new DataOptions { ImageSize = size }));
            Assert.Contains("thin.png", e.Message);
            Assert.Contains("5×1", e.Message);
            Assert.Contains("at least 2×2", e.Message);
        }
    }

    [Fact]
    public void DifferentSizesWithoutAnImageSizeAreRefused()
    {
        string folder = FlatGrey("mixed-sizes", 3);
        Grey(Path.Combine(folder, "wide.png"), 9, 5, 0);

        var e = Assert.Throws<DataFormatException>(() => Load(folder));

        Assert.Contains("'img000.png' is 6×5", e.Message);
        Assert.Contains("'wide.png' is 9×5", e.Message);
        Assert.Contains("RunConfig.ImageSize", e.Message);
    }

    [Fact]
    public void ImagesBothAtTheTopAndInSubfoldersAreRefused()
    {
        string folder = FlatGrey("mixed-layout", 2);
        Grey(Path.Combine(folder, "cats", "1.png"), 6, 5, 0);

        var e = Assert.Throws<DataFormatException>(() => Load(folder));

        Assert.Contains("both at its top level", e.Message);
        Assert.Contains("'img000.png'", e.Message);
        Assert.Contains("'cats/'", e.Message);
    }

    [Fact]
    public void AnImageSizeTooLargeForMemoryIsRefusedBeforeDecoding()
    {
        var e = Assert.Throws<DataFormatException>(() => Load(FlatGrey("huge", 2), new DataOptions { ImageSize = 40_000 }));

        Assert.Contains("40000×40000", e.Message);
        Assert.Contains("smaller RunConfig.ImageSize", e.Message);
    }

    [Theory]
    [InlineData(0, null, 0.1, "image size must be positive; got 0")]
    [InlineData(null, 2, 0.1, "1 channel (grey-scale) or 3 (RGB); got 2")]
    [InlineData(null, null, 0.0, "strictly between 0 and 1; got 0")]
    [InlineData(null, null, 1.0, "strictly between 0 and 1; got 1")]
    [InlineData(null, null, double.NaN, "strictly between 0 and 1; got NaN")]
    public void OptionsOutOfRangeAreRefused(int? size, int? channels, double fraction, string message)
    {
        var options = new DataOptions { ImageSize = size, Channels = channels, TestFraction = fraction };

        var e = Assert.Throws<ArgumentException>(() => Load(FlatGrey("options", 2), options));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void OtherSourcesRefuseASizeOrChannelsTheyDoNotHave()
    {
        var sprites = new DataOptions { SpritesTrain = 4, SpritesTest = 2, SpritesSize = 16 };

        var size = Assert.Throws<DataFormatException>(() => Load("sprites", sprites with { ImageSize = 20 }));
        var channels = Assert.Throws<DataFormatException>(() => Load("sprites", sprites with { Channels = 3 }));

        Assert.Contains("16×16, not the 20×20", size.Message);
        Assert.Contains("RunConfig.ImageSize", size.Message);
        Assert.Contains("1 channel, not the 3", channels.Message);
        Load("sprites", sprites with { ImageSize = 16, Channels = 1 }); // what they have is fine
    }
}
