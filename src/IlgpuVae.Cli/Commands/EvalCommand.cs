using System.CommandLine;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Disentanglement;
using IlgpuVae.Evaluation;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>eval RUN</c>: the test-set numbers of a checkpoint, printed and written to eval.json.</summary>
static class EvalCommand
{
    public static Command Create(TextWriter output)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a .safetensors checkpoint (with --config)" };
        var config = new Option<string?>("--config") { Description = "The config.json describing a bare checkpoint" };
        var device = DeviceOptions.Device(null, absent: "the run's");
        var kernels = DeviceOptions.Kernels();
        var data = new Option<string?>("--data") { Description = "Evaluate on this data set's test split (default: the run's)" };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N test images (0: as many as the run trained with: its --test-limit, or all)" };
        var settings = new SettingOptions<EvalOptions>();
        var disentanglementSettings = new SettingOptions<DisentanglementOptions>();
        var disentanglement = new Option<bool>("--disentanglement")
        {
            Description = "Also measure disentanglement against the data's factors (sprites, or --factors): BetaVAE, FactorVAE, MIG, DCI, SAP, " +
                          "modularity and explicitness, with factor_mi.png and a traversal_zI.png per latent dimension",
        };
        var factors = new Option<string?>("--factors") { Description = "A factors file for the evaluated images (README, Data): a header naming the factors, then a row per image" };
        var codes = new Option<string?>("--codes") { Description = "Write the evaluated images' posterior means and log variances (with labels and factors) to this safetensors file" };
        var outFolder = new Option<string?>("--out") { Description = "Folder to write eval.json and kl_per_dim.png into (default: the run folder; the current folder for a bare checkpoint)" };
        var profile = new Option<bool>("--profile")
        {
            Description = "Time every kernel, each launch waited for, and print where the evaluation's time went (serializes the device)",
        };
        var command = new Command("eval", "Evaluate a trained model on its test set (all of it, unless the run or --limit limits it) and write eval.json.")
        {
            run, config, device, kernels, data, limit,
        };
        foreach (var option in settings.Options.Append(outFolder).Append(profile).Append(disentanglement).Append(factors).Append(codes)
                     .Concat(disentanglementSettings.Options))
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(limit) < 0) throw new ArgumentException($"--limit must be 0 or more; got {parse.GetValue(limit)}.");
            var options = settings.Bind(parse).Validate();
            bool measureDisentanglement = parse.GetValue(disentanglement);
            var factorOptions = disentanglementSettings.Bind(parse).Validate();
            using var vae = Vae.Open(parse.GetValue(run)!, parse.GetValue(config), parse.GetValue(device), TrainedModel.EvaluationBatch,
                Compute.KernelChoices.Parse(parse.GetValue(kernels)!));
            var test = LoadTest(vae.Config, parse.GetValue(data), parse.GetValue(limit));
            if (parse.GetValue(factors) is string factorsPath) test = FactorsFile.Attach(test, factorsPath);
            if (measureDisentanglement && test.Factors is null)
                throw new ArgumentException($"--disentanglement needs the ground-truth factors of the evaluated images, and '{test.Name}' has none: " +
                                            "sprites have them; for other data give a factors file with --factors FILE (README, Data).");
            Evaluator.RequireImages(test.Count);
            output.WriteLine($"Evaluating {test.Count} test images on {vae.Device}…");
            EvalResult result = null!;
            var timing = parse.GetValue(profile) ? KernelProfile.During(vae.Trained.Device, () => result = vae.Evaluate(test, options)) : null;
            if (timing is null) result = vae.Evaluate(test, options);
            string folder = parse.GetValue(outFolder) ?? vae.Folder ?? ".";
            Directory.CreateDirectory(folder);
            var written = new List<string>();
            if (measureDisentanglement)
            {
                output.WriteLine("Measuring disentanglement…");
                var scores = DisentanglementMetrics.Measure(vae, test, factorOptions, (ulong)vae.Config.Seed);
                result = result with { Disentanglement = scores.ToMetrics() };
                written.AddRange(DisentanglementPictures.Write(folder, vae, scores));
            }
            if (parse.GetValue(codes) is string codesPath)
            {
                var (mu, logVar) = vae.Encode(test.Pixels);
                CodesFile.Write(codesPath, test, mu, logVar, vae.LatentDim);
                written.Add(codesPath);
            }
            string path = Path.Combine(folder, RunFolder.EvalFile), chart = Path.Combine(folder, EvalReport.KlChart);
            EvalReport.Write(path, result, vae.Trained.SavedAt);
            EvalReport.WriteKlChart(chart, result);
            foreach (var line in EvalReport.Table(result, vae.Trained.SavedAt)) output.WriteLine(line);
            if (timing is not null)
                foreach (var line in KernelProfile.Table(timing.PerStep(1), "eval")) output.WriteLine(line);
            output.WriteLine($"Wrote {Path.GetFullPath(path)} and {Path.GetFullPath(chart)}");
            if (written.Count > 0) output.WriteLine($"Wrote {string.Join(", ", written.Select(Path.GetFullPath))}");
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
