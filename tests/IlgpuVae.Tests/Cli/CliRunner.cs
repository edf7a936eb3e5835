namespace IlgpuVae.Tests.Cli;

/// <summary>Runs the command line in-process, capturing what it prints.</summary>
internal static class CliRunner
{
    /// <summary>A tiny, fast training configuration on generated sprites, on the CPU accelerator.</summary>
    public static readonly string[] TinyTrain =
    [
        "train", "--train-limit", "192", "--test-limit", "48", "--batch-size", "32", "--hidden", "24",
        "--latent", "3", "--device", "cpu",
    ];

    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = IlgpuVae.Cli.Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary><see cref="TinyTrain"/> into <paramref name="outFolder"/>, an option in <paramref name="extra"/> replacing its default.</summary>
    public static (int Exit, string Output, string Error) Train(string outFolder, params string[] extra)
    {
        var args = new List<string>();
        for (int i = 0; i < TinyTrain.Length; i++)
        {
            if (TinyTrain[i].StartsWith("--") && extra.Contains(TinyTrain[i])) i++; // skip the option and its value
            else args.Add(TinyTrain[i]);
        }
        return Run([.. args, "--out", outFolder, .. extra]);
    }
}
