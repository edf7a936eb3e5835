using System.CommandLine;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>sample RUN</c>: PNG grids from a checkpoint — prior samples, reconstructions, interpolations, traversals.</summary>
static class SampleCommand
{
    public static Command Create(TextWriter output)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a .safetensors checkpoint (with --config)" };
        var config = new Option<string?>("--config") { Description = "The config.json describing a bare checkpoint" };
        var device = DeviceOptions.Device(null, absent: "the run's");
        var outDir = new Option<string?>("--out") { Description = "Folder for the PNGs (default: the run folder)" };
        var count = new Option<int>("--count") { Description = "Prior samples to draw", DefaultValueFactory = _ => 64 };
        var seed = new Option<long?>("--seed") { Description = "Seed of the prior draws (default: the run's)" };
        var data = new Option<string?>("--data") { Description = "Take the test images to reconstruct from this data set (default: the run's, where training found it)" };
        var command = new Command("sample", "Write samples.png, reconstructions.png, interpolation.png and traversals.png.")
        {
            run, config, device, outDir, count, seed, data,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(count);
            if (n <= 0) throw new ArgumentException($"--count must be positive; got {n}.");
            using var vae = Vae.Load(parse.GetValue(run)!, parse.GetValue(config), parse.GetValue(device));
            var c = vae.Config;
            var model = vae.Trained.Model;
            string folder = parse.GetValue(outDir) ?? vae.Folder ?? ".";
            Directory.CreateDirectory(folder);
            var test = EvalCommand.LoadTest(c, parse.GetValue(data), 64);
            ulong s = (ulong)(parse.GetValue(seed) ?? c.Seed);
            RunPictures.WriteSamples(Path.Combine(folder, RunPictures.Samples), model, c.Image, s, n);
            RunPictures.WriteReconstructions(Path.Combine(folder, RunPictures.Reconstructions), model, test, s);
            bool interpolation = RunPictures.WriteInterpolation(Path.Combine(folder, RunPictures.Interpolation), model, test, s);
            RunPictures.WriteTraversals(Path.Combine(folder, RunPictures.Traversals), model, c.Image, s);
            if (!interpolation) output.WriteLine(RunPictures.NoInterpolation(test.Count));
            foreach (var name in new[] { RunPictures.Samples, RunPictures.Reconstructions, RunPictures.Traversals }
                         .Concat(interpolation ? [RunPictures.Interpolation] : []))
                output.WriteLine($"Wrote {Path.GetFullPath(Path.Combine(folder, name))}");
            return 0;
        });
        return command;
    }
}
