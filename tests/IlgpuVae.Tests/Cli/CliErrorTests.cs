using IlgpuVae.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>Bad input gets one clear message on stderr, a non-zero exit, and leaves nothing behind.</summary>
public sealed class CliErrorTests
{
    [Theory]
    [InlineData("unknown model preset 'nope'", "--model", "nope")]
    [InlineData("learning rate must be positive", "--lr", "0")]
    [InlineData("latent dimension must be positive", "--latent", "0")]
    [InlineData("Unknown activation 'swish'", "--activation", "swish")]
    [InlineData("Unknown optimizer 'lbfgs'", "--optimizer", "lbfgs")]
    [InlineData("Unknown MMD kernel 'cosine'", "--kernel", "cosine")]
    [InlineData("bandwidth must be positive", "--kernel", "rbf", "--bandwidth", "-1")]
    [InlineData("alpha must be at most 1", "--alpha", "2")]
    [InlineData("is larger than the training set", "--batch-size", "100000")]
    [InlineData("Unknown device 'tpu'", "--device", "tpu")]
    [InlineData("Unknown data set", "--data", "imagenet")]
    [InlineData("positive layer sizes", "--hidden", "10,x")]
    [InlineData("Unknown binarization 'always'", "--binarize", "always")]
    [InlineData("--image-size must be at least 4: smaller images hold no picture to learn or draw; got 0", "--image-size", "0")]
    [InlineData("--image-size must be at least 4: smaller images hold no picture to learn or draw; got 1", "--image-size", "1")]
    [InlineData("--latent 100000 is more than the 784 values of an image", "--latent", "100000")]
    [InlineData("--image-channels must be 1 (grey-scale) or 3 (RGB); got 2", "--image-channels", "2")]
    [InlineData("--test-fraction must lie strictly between 0 and 1; got 1", "--test-fraction", "1")]
    [InlineData("--test-fraction must lie strictly between 0 and 1; got -0.5", "--test-fraction", "-0.5")]
    [InlineData("Unknown architecture (--arch) 'resnet'", "--arch", "resnet")]
    [InlineData("kernel is larger than its padded 28×28 input", "--arch", "conv", "--conv-kernel", "40", "--conv-padding", "0")]
    [InlineData("stride must be at least 1; got 0 (--conv-stride)", "--arch", "conv", "--conv-stride", "0")]
    [InlineData("padding must lie in [0, kernel − 1] = [0, 3]; got 4 (--conv-padding)", "--arch", "conv", "--conv-padding", "4")]
    [InlineData("Convolution 5's 4×4 kernel is larger than its padded 1×1 input", "--arch", "conv", "--channels", "4,4,4,4,4")]
    [InlineData("positive layer sizes", "--arch", "conv", "--channels", "8,0")]
    [InlineData("Unknown decoder 'wavenet'. Use mlp, made or pixelcnn", "--decoder", "wavenet")]
    [InlineData("--pixelcnn-kernel must be odd and positive (the mask is centred on a pixel); got 4", "--decoder", "pixelcnn", "--pixelcnn-kernel", "4")]
    [InlineData("--pixelcnn-first-kernel must be odd and at least 3 (a 1×1 type-A layer sees nothing); got 1", "--decoder", "pixelcnn", "--pixelcnn-first-kernel", "1")]
    [InlineData("--pixelcnn-layers must be 0 or more; got -1", "--decoder", "pixelcnn", "--pixelcnn-layers", "-1")]
    [InlineData("--pixelcnn-channels 0 is fewer than the images' 1 colour channels", "--decoder", "pixelcnn", "--pixelcnn-channels", "0")]
    [InlineData("Unknown posterior 'flow'. Use gaussian or iaf", "--posterior", "flow")]
    [InlineData("needs at least one step; got --flow-steps 0", "--posterior", "iaf", "--flow-steps", "0")]
    [InlineData("context must have a positive size; got --context-dim 0", "--posterior", "iaf", "--context-dim", "0")]
    [InlineData("needs at least 2; got --latent 1", "--posterior", "iaf", "--latent", "1")]
    [InlineData("positive layer sizes", "--decoder", "made", "--made-hidden", "0")]
    [InlineData("Unknown MADE degree rule (--made-degrees) 'random'. Use spread or cyclic", "--decoder", "made", "--made-degrees", "random")]
    [InlineData("Unknown device 'tpu:0' in --replicas", "--replicas", "tpu:0,tpu:1")]
    [InlineData("--replicas needs at least two devices; got only 'cpu:0'. To train on one device use --device cpu:0", "--replicas", "cpu:0")]
    [InlineData("--replicas 'cpu:1,cpu:1' names cpu:1 twice", "--replicas", "cpu:1,cpu:1")]
    [InlineData("mixes cpu and cuda devices", "--replicas", "cpu:0,cuda:0")]
    [InlineData("names no device, or an empty one", "--replicas", "cpu:0,,cpu:1")]
    [InlineData("--batch-size 1 is smaller than the 2 replicas of --replicas cpu:0,cpu:1", "--replicas", "cpu:0,cpu:1", "--batch-size", "1")]
    [InlineData("--kl-warmup must be 0 (no warm-up) or a positive number of epochs; got -1", "--kl-warmup", "-1")]
    [InlineData("--kl-warmup must be 0 (no warm-up) or a positive number of epochs; got ", "--kl-warmup", "Infinity")]
    [InlineData("--free-bits must be 0 (none) or a positive number of nats per latent dimension; got -0.5", "--free-bits", "-0.5")]
    [InlineData("--free-bits 0.5 does not combine with --posterior iaf: free bits clamp each latent dimension's analytic KL", "--posterior", "iaf", "--free-bits", "0.5")]
    [InlineData("--free-bits 0.25 does not combine with --replicas cpu:0,cpu:1", "--replicas", "cpu:0,cpu:1", "--free-bits", "0.25")]
    [InlineData("--kl-warmup 3 would do nothing: the KL weight 1 − α is 0 (--model mmd-vae)", "--model", "mmd-vae", "--kl-warmup", "3")]
    [InlineData("--free-bits 0.5 would do nothing: the KL weight 1 − α is 0", "--alpha", "1", "--free-bits", "0.5")]
    [InlineData("--replicas cpu:0,cpu:1 and --device cpu exclude each other: give one of them", "--replicas", "cpu:0,cpu:1", "--device", "cpu")]
    [InlineData("--model beta-tcvae does not combine with --posterior iaf", "--model", "beta-tcvae", "--posterior", "iaf")]
    [InlineData("--model beta-tcvae does not combine with --replicas cpu:0,cpu:1", "--model", "beta-tcvae", "--replicas", "cpu:0,cpu:1")]
    [InlineData("--model beta-tcvae takes no --alpha or --lambda (got 0 and none)", "--model", "beta-tcvae", "--alpha", "0")]
    [InlineData("--dataset-size must be 0 (the training set's size) or more; got -5", "--model", "beta-tcvae", "--dataset-size", "-5")]
    [InlineData("--dataset-size 500 belongs to --model beta-tcvae, and this run has --model vae", "--model", "vae", "--dataset-size", "500")]
    [InlineData("--channels 8 belongs to --arch conv, and this run has --arch mlp: it would be ignored", "--channels", "8")]
    [InlineData("--made-hidden 32 belongs to --decoder made, and this run has --decoder pixelcnn", "--decoder", "pixelcnn", "--made-hidden", "32")]
    [InlineData("--flow-steps 2 belongs to --posterior iaf", "--flow-steps", "2")]
    [InlineData("--made-degrees cyclic belongs to --decoder made or --posterior iaf", "--made-degrees", "cyclic")]
    [InlineData("--bandwidth 2 belongs to --kernel rbf, and this run has --kernel imq", "--bandwidth", "2")]
    [InlineData("--eval-iwae-k 5 belongs to a --eval-every other than 0", "--eval-iwae-k", "5")]
    [InlineData("--hidden takes positive layer sizes separated by commas (e.g. 512,256), or '' for none; ',,' has an empty one", "--hidden", ",,")]
    public void TrainRejectsBadInputWithoutCreatingTheRunFolder(string message, params string[] options)
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, output, error) = CliRunner.Train(run, options);
        Assert.True(exit == 1, $"exit {exit}: {error}{output}");
        Assert.Contains(message, error, StringComparison.OrdinalIgnoreCase);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(run), "a refused run must not leave a folder");
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("opencl")]
    [InlineData("cuda:7")]
    [InlineData("opencl:9")]
    public void AnUnavailableDeviceIsRefusedWithWhatToDo(string spec)
    {
        // Whether the machine has no such device, or has one that ILGPU refuses (Debian's PoCL, say), the message
        // names the device as it was typed and says what to do. Where it is usable, the run would simply use it, and
        // `devices` lists it so.
        string device = spec;
        bool first = !device.Contains(':');
        if (first && TestDevices.Usable(device == "cuda" ? IlgpuVae.Compute.DeviceKind.Cuda : IlgpuVae.Compute.DeviceKind.OpenCL))
        {
            var (listed, devices, _) = CliRunner.Run("devices");
            Assert.Equal(0, listed);
            Assert.Matches($@"(?m)^{device}:0 .*usable", devices);
            return;
        }
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Train(temp.File("run"), "--device", device);
        Assert.Equal(1, exit);
        Assert.DoesNotContain("data:", output); // refused before the data is loaded
        Assert.Contains(device.Split(':')[0], error, StringComparison.OrdinalIgnoreCase);
        if (device.Contains(':')) Assert.Contains($"'{device}'", error);
        Assert.Contains("--device cpu", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(temp.File("run")));
    }

    [Fact]
    public void ReplicasOfAllGpusNeedAtLeastTwo()
    {
        // Where two or more CUDA devices are usable, cuda:all would simply train on them.
        if (ComputeDevice.Survey().Count(r => r.Kind == DeviceKind.Cuda && r.Usable) >= 2) return;
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Train(temp.File("run"), "--replicas", "cuda:all");
        Assert.Equal(1, exit);
        Assert.Contains("--replicas cuda:all found", error);
        Assert.Contains("needs at least two", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(temp.File("run")));
    }

    [Fact]
    public void AFileThatIsNotADataSetIsCalledThatWithWhatDataTakes()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("notes.txt"), "hello");
        var (exit, _, error) = CliRunner.Train(temp.File("run"), "--data", temp.File("notes.txt"));
        Assert.Equal(1, exit);
        Assert.Contains($"'{temp.File("notes.txt")}' is not a data set", error);
        Assert.Contains("--data takes sprites, fashion-mnist, mnist", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void ABadOptionIsReportedBeforeAnOccupiedOutputFolder()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        var (exit, _, error) = CliRunner.Train(run, "--lr", "0");
        Assert.Equal(1, exit);
        Assert.Contains("learning rate must be positive", error);
        Assert.DoesNotContain("already holds a run", error);
    }

    [Theory]
    [InlineData("\"latent\": 3", "\"latent\": \"three\"", "line 29: latent must be a whole number.")]
    [InlineData("\"latent\": 3", "\"latent\": 3,,", "line 29: it is not valid JSON (',' is an invalid start of a property name")]
    [InlineData("\"image_height\": 28", "\"image_height\": -5", "records image_height -5 and image_width 28: an image's size is positive.")]
    public void ABrokenConfigIsDescribedInTheFilesTerms(string saved, string broken, string message)
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        string config = Path.Combine(run, "config.json");
        Assert.Contains(saved, File.ReadAllText(config));
        File.WriteAllText(config, File.ReadAllText(config).Replace(saved, broken));
        var (exit, _, error) = CliRunner.Run("eval", run, "--iwae-k", "0");
        Assert.Equal(1, exit);
        Assert.Contains(message, error);
        Assert.DoesNotContain("System.", error);
        Assert.DoesNotContain("IlgpuVae.Runs", error);
    }

    [Fact]
    public void EvalOfAMissingRunSaysSo()
    {
        var (exit, _, error) = CliRunner.Run("eval", "/nonexistent/run");
        Assert.Equal(1, exit);
        Assert.Contains("No run folder at '/nonexistent/run'", error);
    }

    [Fact]
    public void DevicesListsTheCpuAccelerator()
    {
        var (exit, output, _) = CliRunner.Run("devices");
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^cpu +CPUAccelerator +host +usable", output);
    }

    [Fact]
    public void UnknownCommandIsAUsageError()
    {
        var (exit, _, error) = CliRunner.Run("fly");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: unknown command 'fly'.", error.Trim());
        Assert.Single(error.Trim().Split('\n'));
    }
}

/// <summary>A bug is not the user's mistake: it gets its own exception, a message that says so, and exit code 70.</summary>
public sealed class InternalFaultTests
{
    [Fact]
    public void AnInternalFaultSaysItIsABugAndWhatToReport()
    {
        var e = new InternalFaultException("Buffer 'x' holds 3 elements; the launch needs 4.");
        Assert.Contains("a bug in IlgpuVae, not a problem with your input", e.Message);
        Assert.Contains("Please report it", e.Message);
        Assert.Equal("Buffer 'x' holds 3 elements; the launch needs 4.", e.Detail);
    }

    [Fact]
    public void ALaunchWithAShortBufferIsAnInternalFaultNotAUserError()
    {
        using var d = new IlgpuVae.Tests.Infrastructure.DeviceArrays(IlgpuVae.Tests.Infrastructure.TestDevices.Get("cpu"));
        var e = Assert.Throws<InternalFaultException>(() => d.Device.Kernels.FillNormal(1, 10, d.Floats(4)));
        Assert.Contains("'output'", e.Message);
    }
}
