using IlgpuVae.Runs;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// A command line that does not parse gets one line on stderr — the nearest option or command for a typo, the
/// kind of value an option takes — with exit code 1 and no help text; the library's messages name settings as
/// RunConfig's properties, which the command line shows as its options.
/// </summary>
public sealed class ParseErrorTests
{
    [Theory]
    [InlineData("error: unknown option '--epoch' for train. Did you mean --epochs?", "train", "--epoch", "3")]
    [InlineData("error: unknown option '--laten' for train. Did you mean --latent?", "train", "--laten", "3")]
    [InlineData("error: unknown option '--frobnicate' for train; 'train --help' lists its options.", "train", "--frobnicate")]
    [InlineData("error: --epochs takes a whole number; got 'three'.", "train", "--epochs", "three")]
    [InlineData("error: --lr takes a number; got 'fast'.", "train", "--lr", "fast")]
    [InlineData("error: --epochs was given 2 times ('2', '3'); give it once.", "train", "--epochs", "2", "--epochs", "3")]
    [InlineData("error: --epochs needs a value: a whole number; 'train --help' says what it takes.", "train", "--epochs")]
    [InlineData("error: --limit takes a whole number; got 'all'.", "eval", "run", "--limit", "all")]
    [InlineData("error: eval needs <run>: A run folder, or a .safetensors checkpoint (with --config).", "eval")]
    [InlineData("error: unknown command 'trian'. Did you mean train?", "trian")]
    [InlineData("error: --batch-sizes takes positive batch sizes separated by commas (e.g. 128,1024); '0' is not one.", "bench", "--batch-sizes", "0")]
    public void ABadCommandLineGetsOneLine(string line, params string[] args)
    {
        var (exit, output, error) = CliRunner.Run(args);
        Assert.Equal(1, exit);
        Assert.Equal(line, error.Trim());
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("RunConfig.BatchSize must be positive", "--batch-size must be positive")]
    [InlineData("Use RunConfig.Estimator = biased.", "Use --estimator biased.")]
    [InlineData("RunConfig.ImqC and RunConfig.EvalIwaeK", "--imq-c and --eval-iwae-k")]
    [InlineData("EvalOptions.ImportanceSamples and EvalOptions.MiLimit", "--iwae-k and --mi-limit")]
    [InlineData("(RunConfig.Arch)", "(--arch)")]
    public void SettingsAreNamedAsTheirOptions(string library, string commandLine) =>
        Assert.Equal(commandLine, IlgpuVae.Cli.Errors.ForCommandLine(library));

    [Fact]
    public void TheLibraryNamesTheSettingACallerSet()
    {
        var e = Assert.Throws<ArgumentException>(() => new RunConfig { BatchSize = 0 }.Validate());
        Assert.Equal("RunConfig.BatchSize must be positive; got 0.", e.Message);
        e = Assert.Throws<ArgumentException>(() => new RunConfig { Posterior = "iaf", FlowSteps = 0 }.Validate());
        Assert.Contains("got RunConfig.FlowSteps = 0", e.Message);
        Assert.DoesNotContain("--", e.Message);
    }
}
