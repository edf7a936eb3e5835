using IlgpuVae.Data;
using IlgpuVae.Tests.Infrastructure;
using static IlgpuVae.Data.DataSources;

namespace IlgpuVae.Tests.Data;

public sealed class DataSourcesTests : IDisposable
{
    readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A small MNIST-shaped set: 6 train and 4 test images of 5×4, gzipped, with labels when asked.</summary>
    string WriteSet(string name, bool labels = true)
    {
        string folder = _temp.File(name);
        IdxFiles.WriteSet(folder, TrainImages + ".gz", labels ? TrainLabels + ".gz" : null, 6, 5, 4, salt: 1);
        IdxFiles.WriteSet(folder, TestImages + ".gz", labels ? TestLabels + ".gz" : null, 4, 5, 4, salt: 2);
        return folder;
    }

    [Fact]
    public void SpritesUsesOptionsAndDiffersBetweenTrainAndTest()
    {
        var options = new DataOptions { Seed = 3, SpritesTrain = 20, SpritesTest = 10, SpritesSize = 16 };

        var (train, test) = Load("Sprites", options);

        Assert.Equal((20, 16), (train.Count, train.Width));
        Assert.Equal((10, 16), (test.Count, test.Width));
        Assert.NotEqual(train.Slice(0, 10).Pixels, test.Pixels);
        Assert.Equal(train.Pixels, Load("sprites", options).Train.Pixels);
    }

    [Fact]
    public void FindsNamedSetInFirstFolderHoldingAllFour()
    {
        string partial = _temp.File("partial");
        IdxFiles.WriteSet(partial, TrainImages, TrainLabels, 2, 5, 4, salt: 0); // no test files: skipped
        var log = new StringWriter();
        var options = new DataOptions { SearchFolders = [_temp.File("absent"), partial, WriteSet("fm")], Log = log };

        var (train, test) = Load("fashion-mnist", options);

        Assert.Equal((6, 5, 4), (train.Count, train.Height, train.Width));
        Assert.Equal(4, test.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5], train.Labels);
        Assert.Equal("Ankle boot", train.LabelNames[9]);
        Assert.Equal(("fashion-mnist/train", "fashion-mnist/test"), (train.Name, test.Name));
        Assert.Contains(_temp.File("fm"), log.ToString());
        ImageSet.Validate(train);
    }

    [Fact]
    public void LoadsFolderPath()
    {
        var (train, test) = Load(WriteSet("custom"), new DataOptions());

        Assert.Equal((6, 4), (train.Count, test.Count));
        Assert.Equal("custom/train", train.Name);
        Assert.Empty(train.LabelNames);
    }

    [Fact]
    public void LoadsImagesFileWithSiblingsAndNoLabels()
    {
        string folder = WriteSet("unlabelled", labels: false);

        var (train, test) = Load(Path.Combine(folder, TrainImages + ".gz"), new DataOptions());

        Assert.Equal((6, 4), (train.Count, test.Count));
        Assert.All(train.Labels, l => Assert.Equal(-1, l));
        Assert.All(test.Labels, l => Assert.Equal(-1, l));
    }

    [Fact]
    public void FolderWithoutTestImagesIsRejected()
    {
        string folder = _temp.File("train-only");
        IdxFiles.WriteSet(folder, TrainImages, TrainLabels, 2, 5, 4, salt: 0);

        var e = Assert.Throws<DataNotFoundException>(() => Load(folder, new DataOptions()));

        Assert.Contains(TestImages, e.Message);
    }

    [Theory]
    [InlineData("fashion-mnist", true)]
    [InlineData("mnist", false)]
    public void MissingNamedSetSaysWhereToPutIt(string name, bool mentionsApt)
    {
        var options = new DataOptions { AllowDownload = false, SearchFolders = [_temp.File("a"), _temp.File("b")] };

        var e = Assert.Throws<DataNotFoundException>(() => Load(name, options));

        Assert.Contains(_temp.File("a"), e.Message);
        Assert.Contains(_temp.File("b"), e.Message);
        Assert.Contains(TrainImages, e.Message);
        Assert.Contains("not tried", e.Message);
        Assert.Equal(mentionsApt, e.Message.Contains("apt-get install dataset-fashion-mnist"));
    }

    [Fact]
    public void UnknownSpecListsAcceptedValues()
    {
        var e = Assert.Throws<DataFormatException>(() => Load(_temp.File("cifar"), new DataOptions()));

        Assert.Contains("sprites", e.Message);
        Assert.Contains("fashion-mnist", e.Message);
        Assert.Contains("mnist,", e.Message);
    }

    [Fact]
    public void MismatchedImageSizesAreRejected()
    {
        string folder = _temp.File("mixed");
        IdxFiles.WriteSet(folder, TrainImages, null, 2, 5, 4, salt: 0);
        IdxFiles.WriteSet(folder, TestImages, null, 2, 4, 4, salt: 0);

        var e = Assert.Throws<DataFormatException>(() => Load(folder, new DataOptions()));

        Assert.Contains("5×4", e.Message);
    }
}
