using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>One tiny two-epoch InfoVAE run on sprites, shared by the tests that read a finished run.</summary>
public sealed class TrainedRunFixture : IDisposable
{
    readonly TempFolder temp = new();

    public string Run { get; }
    public int Exit { get; }
    public string Output { get; }
    public string Error { get; }

    public TrainedRunFixture()
    {
        Run = temp.File("run");
        (Exit, Output, Error) = CliRunner.Train(Run, "--epochs", "2");
    }

    public void Dispose() => temp.Dispose();
}
