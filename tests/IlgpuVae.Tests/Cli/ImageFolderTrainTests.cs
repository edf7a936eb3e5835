using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using SkiaSharp;

namespace IlgpuVae.Tests.Cli;

/// <summary>`train --data FOLDER` on a folder of image files, with the image options passed through to the data.</summary>
public sealed class ImageFolderTrainTests : IDisposable
{
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>40 images of 10×8 in two class subfolders, colour or grey.</summary>
    string Folder(bool colour)
    {
        string folder = temp.File(colour ? "colour" : "grey");
        for (int i = 0; i < 40; i++)
            ImageFiles.Write(Path.Combine(folder, i % 2 == 0 ? "even" : "odd", $"{i}.png"), 10, 8,
                (x, y) => colour ? new SKColor((byte)(x * 25), (byte)(y * 30), (byte)(i * 6)) : new SKColor((byte)(x * 25), (byte)(x * 25), (byte)(x * 25)));
        return folder;
    }

    [Fact]
    public void TrainsOnAnImageFolderAndRecordsTheImageOptions()
    {
        string run = temp.File("run");

        var (exit, output, error) = CliRunner.Train(run, "--data", Folder(colour: true), "--image-size", "6",
            "--image-channels", "1", "--test-fraction", "0.25", "--batch-size", "8", "--epochs", "1");

        Assert.True(exit == 0, error + output);
        Assert.Contains("30 train / 10 test, 6×6", output);
        var config = RunConfig.FromJson(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)), "config");
        Assert.Equal((6, 1, 0.25), (config.ImageSize, config.ImageChannels, config.TestFraction));
        Assert.Equal((6, 6), (config.ImageHeight, config.ImageWidth));
    }

    /// <summary>Colour images train a colour model, dense or convolutional: three channels in, three out, RGB pictures.</summary>
    [Theory]
    [InlineData("mlp")]
    [InlineData("conv")]
    public void ColourImagesTrainAColourModel(string arch)
    {
        string run = temp.File("run-" + arch);

        string[] conv = arch == "conv" ? ["--channels", "3,4", "--conv-kernel", "3"] : [];
        var (exit, output, error) = CliRunner.Train(run, ["--data", Folder(colour: true), "--batch-size", "8", "--epochs", "1",
            "--arch", arch, .. conv, "--hidden", "12"]);

        Assert.True(exit == 0, error + output);
        var config = RunConfig.FromJson(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)), "config");
        Assert.Equal((3, 8, 8), (config.ImageChannels, config.ImageHeight, config.ImageWidth)); // 10×8, centre-cropped square
        Assert.Equal(arch, config.Arch);
        using var samples = SKBitmap.Decode(Path.Combine(run, RunPictures.Samples));
        Assert.NotEqual(SKColorType.Gray8, samples.ColorType);
        var (evalExit, _, evalError) = CliRunner.Run("eval", run, "--iwae-k", "4", "--device", "cpu");
        Assert.True(evalExit == 0, evalError);
    }

    [Fact]
    public void ABadImageFolderGetsOneLine()
    {
        string folder = Folder(colour: false);
        File.WriteAllText(Path.Combine(folder, "odd", "broken.png"), "not a png");

        var (exit, _, error) = CliRunner.Train(temp.File("run"), "--data", folder);

        Assert.Equal(1, exit);
        Assert.Contains("broken.png' cannot be decoded", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
