using System.CommandLine;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>export RUN --format onnx</c>: the encoder, the decoder and an IAF posterior's flow as files other runtimes load.</summary>
static class ExportCommand
{
    static readonly string[] Formats = ["onnx"];

    public static Command Create(TextWriter output)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a .safetensors checkpoint (with --config)" };
        var config = new Option<string?>("--config") { Description = "The config.json describing a bare checkpoint" };
        var format = new Option<string>("--format") { Description = "onnx: encoder.onnx (x → mu, logvar[, context]), decoder.onnx (z[, x] → logits or mean) and, for an IAF posterior, flow.onnx (mu, logvar, context, eps → z, log_q)", DefaultValueFactory = _ => "onnx" };
        var outFolder = new Option<string?>("--out") { Description = "Folder to write the files into (default: the run folder; the current folder for a bare checkpoint)" };
        var command = new Command("export", "Export a trained model's encoder and decoder, and an IAF posterior's flow (ONNX, NCHW images like PyTorch's).")
        {
            run, config, format, outFolder,
        };
        command.SetAction(parse =>
        {
            string chosen = parse.GetValue(format)!.Trim().ToLowerInvariant();
            if (!Formats.Contains(chosen))
                throw new ArgumentException($"--format must be one of {string.Join(", ", Formats)}; got '{parse.GetValue(format)}'.");
            // The weights only pass through the host, so the CPU accelerator always suffices.
            using var vae = Vae.Load(parse.GetValue(run)!, parse.GetValue(config), "cpu");
            foreach (var path in vae.ExportOnnx(parse.GetValue(outFolder) ?? vae.Folder ?? "."))
                output.WriteLine($"Wrote {path}");
            return 0;
        });
        return command;
    }
}
