using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>eval RUN</c>: the test-set numbers of a checkpoint, printed and written to eval.json.</summary>
static class EvalCommand
{
    public static Command Create(TextWriter output)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a .safetensors checkpoint (with --config)" };
        var config = new Option<string?>("--config") { Description = "The config.json describing a bare checkpoint" };
        var device = new Option<string?>("--device") { Description = "auto, cpu, cuda, opencl (default: the run's)" };
        var data = new Option<string?>("--data") { Description = "Evaluate on this data set's test split (default: the run's)" };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N test images (0: all)" };
        var samples = new Option<int>("--elbo-samples") { Description = "Draws of z per image for the −ELBO", DefaultValueFactory = _ => 4 };
        var outFile = new Option<string?>("--out") { Description = "Where to write eval.json (default: the run folder)" };
        var command = new Command("eval", "Evaluate a trained model on the whole test set and write eval.json.")
        {
            run, config, device, data, limit, samples, outFile,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(samples) <= 0) throw new ArgumentException($"--elbo-samples must be positive; got {parse.GetValue(samples)}.");
            if (parse.GetValue(limit) < 0) throw new ArgumentException($"--limit must be 0 or more; got {parse.GetValue(limit)}.");
            using var trained = TrainedModel.Open(parse.GetValue(run)!, parse.GetValue(config), parse.GetValue(device), 256);
            var test = LoadTest(trained.Config, parse.GetValue(data), parse.GetValue(limit));
            var values = EvalReport.Run(trained, test, parse.GetValue(samples));
            string path = parse.GetValue(outFile) ?? (trained.Folder?.File(RunFolder.EvalFile) ?? RunFolder.EvalFile);
            EvalReport.Write(path, values);
            output.WriteLine($"{"metric",-16} {"value",14}");
            foreach (var (key, value) in values)
                output.WriteLine($"{key,-16} {value,14:G7}");
            output.WriteLine($"Wrote {Path.GetFullPath(path)}");
            return 0;
        });
        return command;
    }

    /// <summary>The test split the model is measured on, checked against the model's input size.</summary>
    internal static ImageSet LoadTest(RunConfig config, string? dataOverride, int limit)
    {
        var (_, test) = RunData.Load(config with { TestLimit = limit > 0 ? limit : config.TestLimit }, dataOverride);
        return test;
    }
}
