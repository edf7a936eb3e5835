using System.Text;
using System.Text.RegularExpressions;

namespace IlgpuVae.Tests.Docs;

/// <summary>
/// How a fenced shell block of the docs is checked, named by the word after its language (<c>```sh run</c>):
/// run as written, run with size-limiting options (<see cref="DocCommand.Limited"/>), or only parsed against the
/// declared options (a GPU, mpiexec, a long experiment, a placeholder path).
/// </summary>
public enum BlockCheck { Run, Limited, Parse }

/// <summary>One command of a block: its words (quotes removed, continuation lines joined) and the line it starts on.</summary>
public sealed record DocCommand(string Page, int Line, IReadOnlyList<string> Words, BlockCheck Check)
{
    /// <summary>The arguments after the command line's program, where the command runs IlgpuVae's CLI; else null.</summary>
    public string[]? CliArguments
    {
        get
        {
            var words = Words.SkipWhile(w => w is "sudo" || Regex.IsMatch(w, "^[A-Z_]+=")).ToList();
            if (words is ["mpiexec", "-n", _, ..]) words = words.Skip(3).ToList();
            if (words is ["dotnet", "run", ..])
            {
                int dashes = words.IndexOf("--");
                bool cli = words.Contains("src/IlgpuVae.Cli");
                return cli && dashes >= 0 ? words.Skip(dashes + 1).ToArray() : null;
            }
            int program = words.FindIndex(w => w == "ilgpuvae" || w.EndsWith("IlgpuVae.Cli", StringComparison.Ordinal));
            return program >= 0 && (program == 0 || words[0] == "chroot") ? words.Skip(program + 1).ToArray() : null;
        }
    }

    public override string ToString() => $"{Page}:{Line}: {string.Join(" ", Words)}";
}

/// <summary>A page of the docs (README.md or a page under docs/): its fenced shell blocks' commands and its links.</summary>
public sealed class DocPage
{
    static readonly string[] ShellLanguages = ["sh", "bash", "shell", "console"];

    DocPage(string relative, string text) => (Relative, Text) = (relative, text);

    /// <summary>The page's path from the repository's root, with '/'.</summary>
    public string Relative { get; }

    public string Text { get; }

    /// <summary>README.md and every page under docs/, by path from the repository's root.</summary>
    public static IEnumerable<string> All(string root) =>
        new[] { "README.md" }.Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal));

    public static DocPage Read(string root, string relative) => FromText(relative, File.ReadAllText(Path.Combine(root, relative)));

    /// <summary>A page of the given text, as if read from <paramref name="relative"/>.</summary>
    public static DocPage FromText(string relative, string text) => new(relative, text);

    /// <summary>The commands of the page's shell blocks, in order; a shell block without a check word is a problem.</summary>
    public (IReadOnlyList<DocCommand> Commands, IReadOnlyList<string> Problems) Commands()
    {
        var commands = new List<DocCommand>();
        var problems = new List<string>();
        var lines = Text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var fence = Regex.Match(lines[i], @"^\s*```(?!`)(\w*)\s*(\w*)");
            if (!fence.Success)
            {
                // A command in an indented block cannot be told from other text by a mark, so it is never checked: fence it.
                if (Regex.IsMatch(lines[i], @"^ {4}(IlgpuVae\.Cli|ilgpuvae|dotnet|mpiexec|scripts/)") && (i == 0 || lines[i - 1].Trim().Length == 0))
                    problems.Add($"{Relative}:{i + 1}: a command in an indented block; fence it (```sh run, limited or parse) so it is checked.");
                continue;
            }
            int start = i;
            for (i++; i < lines.Length && !IsFence(lines[i]); i++) { }
            if (!ShellLanguages.Contains(fence.Groups[1].Value)) continue;
            if (!Enum.TryParse<BlockCheck>(fence.Groups[2].Value, ignoreCase: true, out var check) || fence.Groups[2].Value.Length == 0)
            {
                problems.Add($"{Relative}:{start + 1}: a shell block must say how it is checked: ```{fence.Groups[1].Value} run, limited or parse.");
                continue;
            }
            commands.AddRange(Split(lines[(start + 1)..i], start + 2, check));
        }
        return (commands, problems);
    }

    /// <summary>Whether <paramref name="line"/> opens or closes a fenced block (three backticks, not four: ```` ```sh ```` in a line is text).</summary>
    static bool IsFence(string line) => Regex.IsMatch(line, @"^\s*```(?!`)");

    /// <summary>The block's commands: comments dropped, continuation lines joined, the words of each.</summary>
    IEnumerable<DocCommand> Split(string[] block, int firstLine, BlockCheck check)
    {
        var text = new StringBuilder();
        int line = 0;
        for (int j = 0; j < block.Length; j++)
        {
            string content = StripComment(block[j]).TrimEnd();
            if (text.Length == 0) line = firstLine + j;
            bool continues = content.EndsWith('\\');
            text.Append(continues ? content[..^1] : content).Append(' ');
            if (continues) continue;
            var words = Words(text.ToString());
            text.Clear();
            if (words.Count > 0) yield return new DocCommand(Relative, line, words, check);
        }
    }

    /// <summary>A line without its shell comment (a # outside quotes that starts a word).</summary>
    static string StripComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '"' or '\'') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }

    /// <summary>Shell words: split at blanks outside quotes, the quotes removed.</summary>
    static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'') (quote, inWord) = (c, true);
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                (word, inWord) = (new StringBuilder(), false);
            }
            else (inWord, _) = (true, word.Append(c));
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>The targets of the page's links and images that point into the repository (not a web address or an anchor alone), with their lines.</summary>
    public IEnumerable<(int Line, string Target)> LocalLinks()
    {
        var lines = Text.Split('\n');
        bool fenced = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (IsFence(lines[i])) fenced = !fenced;
            if (fenced || lines[i].StartsWith("    ", StringComparison.Ordinal)) continue;
            foreach (Match m in Regex.Matches(lines[i], @"!?\[[^\]]*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)"))
            {
                string target = m.Groups[1].Value;
                if (Regex.IsMatch(target, "^[a-z]+:", RegexOptions.IgnoreCase) || target.StartsWith('#')) continue;
                yield return (i + 1, target.Split('#')[0]);
            }
        }
    }
}
