using System.CommandLine;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>compare RUN…</c>: several runs' metrics per epoch, one chart per metric.</summary>
static class CompareCommand
{
    public static Command Create(TextWriter output)
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders to draw, one line each", Arity = ArgumentArity.OneOrMore };
        var metric = new Option<string>("--metric") { Description = "Metrics to draw, comma-separated: any key of metrics.jsonl, e.g. test_neg_elbo, or mi, iwae_nll, active_units from --eval-every", DefaultValueFactory = _ => "test_neg_elbo" };
        var outDir = new Option<string>("--out") { Description = "Folder to write compare_METRIC.png into", DefaultValueFactory = _ => "." };
        var command = new Command("compare", "Draw several runs' metrics per epoch on one chart per metric (PNG).")
        {
            runs, metric, outDir,
        };
        command.SetAction(parse =>
        {
            var metrics = parse.GetValue(metric)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var path in RunComparison.Write(parse.GetValue(runs)!, metrics, parse.GetValue(outDir)!))
                output.WriteLine($"Wrote {Path.GetFullPath(path)}");
            return 0;
        });
        return command;
    }
}
