using System.Text.RegularExpressions;
using IlgpuVae.Cli;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Golden;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Docs;

/// <summary>
/// Every command in README.md and docs/ works as the page says, and every link and picture path resolves. A page's
/// shell blocks are fenced and marked (<see cref="BlockCheck"/>): a <c>run</c> block runs as written, a <c>limited</c>
/// block runs with size-limiting options set (<see cref="Limit"/>), a <c>parse</c> block is checked against the declared
/// options only; a renamed option then fails here, not in a reader's shell.
/// </summary>
public sealed class DocCommandTests
{
    static string Root => GoldenFolders.Root;

    public static TheoryData<string> Pages() => new(DocPage.All(Root));

    [Theory]
    [MemberData(nameof(Pages))]
    public void LinksAndPicturesResolve(string page)
    {
        var doc = DocPage.Read(Root, page);
        string folder = Path.GetDirectoryName(Path.Combine(Root, page))!;
        var missing = doc.LocalLinks().Where(l => l.Target.Length > 0 && !Path.Exists(Path.Combine(folder, Uri.UnescapeDataString(l.Target))))
            .Select(l => $"{page}:{l.Line}: {l.Target}").ToList();
        Assert.True(missing.Count == 0, "Links to nothing:\n" + string.Join("\n", missing));
    }

    /// <summary>
    /// Every command of the page, whatever its mark, names a command and only options it declares, and every script it
    /// names exists; other programs' commands (dotnet test, mpiexec's own options) are not run, only their scripts looked for.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pages))]
    public void CommandsUseDeclaredOptions(string page)
    {
        var (commands, problems) = DocPage.Read(Root, page).Commands();
        var found = problems.ToList();
        foreach (var command in commands)
        {
            if (command.CliArguments is { } args)
            {
                if (ParseProblem(args) is string problem) found.Add($"{command}\n    {problem}");
            }
            foreach (var script in command.Words.Where(w => w.StartsWith("scripts/", StringComparison.Ordinal)))
                if (!File.Exists(Path.Combine(Root, script))) found.Add($"{command}\n    {script} does not exist.");
        }
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    /// <summary>The IlgpuVae commands of the page's run and limited blocks, in order, in a folder of their own (so a later command finds what an earlier one wrote).</summary>
    [NeedsTheory(Prerequisite.FashionMnist)]
    [MemberData(nameof(Pages))]
    public void RunnableCommandsSucceed(string page)
    {
        var (commands, _) = DocPage.Read(Root, page).Commands();
        using var folder = new TempFolder();
        foreach (var command in commands.Where(c => c.Check != BlockCheck.Parse && c.CliArguments is not null))
        {
            var args = command.Check == BlockCheck.Limited ? Limit(command.CliArguments!) : command.CliArguments!;
            // A block that takes longer than this is too big for the check: limit its sizes further, or mark it parse.
            var (exit, output, error) = CliRunner.RunProcessIn(folder.Path, TimeSpan.FromMinutes(5), args);
            Assert.True(exit == 0, $"{command}\n    ran as: {string.Join(" ", args)}\n    exit {exit}\n{error}\n{Tail(output)}");
        }
    }

    /// <summary>
    /// A limited block's arguments: each size-limiting option set, replacing the page's value where it gives one — a
    /// new run trains one epoch on 256 images and tests on 64, a resumed one runs to epoch 2, an evaluation takes 64
    /// images and 20 importance samples, sampling draws 16.
    /// </summary>
    internal static string[] Limit(string[] args)
    {
        var list = args.ToList();
        void Set(string option, string value)
        {
            int at = list.IndexOf(option);
            if (at >= 0 && at + 1 < list.Count) list[at + 1] = value;
            else list.AddRange([option, value]);
        }
        switch (list.FirstOrDefault())
        {
            case "train" when list.Contains("--resume"):
                Set("--epochs", "2");
                break;
            case "train":
                Set("--epochs", "1");
                Set("--train-limit", "256");
                Set("--test-limit", "64");
                if (list.Contains("--eval-every")) Set("--eval-iwae-k", "10");
                break;
            case "eval":
                Set("--limit", "64");
                Set("--iwae-k", "20");
                break;
            case "sample":
                Set("--count", "16");
                break;
        }
        return [.. list];
    }

    /// <summary>
    /// Why <paramref name="args"/> do not parse: an unknown command, an option the command does not declare, or — where the
    /// command holds no placeholder (a $variable, an UPPER_CASE word, path/to) — any parse error the command line reports.
    /// </summary>
    internal static string? ParseProblem(string[] args)
    {
        var root = Program.Commands(TextWriter.Null);
        if (args.Length == 0) return "no command given";
        var command = root.Subcommands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null) return $"'{args[0]}' is not a command; they are {string.Join(", ", root.Subcommands.Select(c => c.Name))}.";
        var known = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(["--help", "-h", "-?"]).ToHashSet();
        var unknown = args.Skip(1).Where(a => a.StartsWith('-') && !double.TryParse(a, out _) && !known.Contains(a)).ToList();
        if (unknown.Count > 0) return $"{command.Name} has no option {string.Join(", ", unknown)}.";
        bool placeholder = args.Any(a => a.Contains('$') || a.Contains("path/to") || Regex.IsMatch(a, "^[A-Z][A-Z_]+$"));
        return placeholder ? null : ParseErrors.Describe(root.Parse(args));
    }

    static string Tail(string text) => string.Join("\n", text.Split('\n').TakeLast(8));
}
