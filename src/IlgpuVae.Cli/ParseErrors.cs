using System.CommandLine;
using System.CommandLine.Parsing;

namespace IlgpuVae.Cli;

/// <summary>
/// A command line that does not parse gets one line, as git gives: the unknown option or command and the nearest
/// known one, or the option and the kind of value it takes — never the whole help, nor .NET's type names.
/// </summary>
static class ParseErrors
{
    /// <summary>The one line for <paramref name="result"/>'s first error; null when it parsed.</summary>
    public static string? Describe(ParseResult result)
    {
        if (result.Errors.Count == 0) return null;
        var command = result.CommandResult.Command;
        string path = CommandPath(result.CommandResult);
        if (result.UnmatchedTokens is [var token, ..])
        {
            if (token.StartsWith('-'))
            {
                var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--"));
                return Nearest(token, names) is string option
                    ? $"unknown option '{token}' for {path}. Did you mean {option}?"
                    : $"unknown option '{token}' for {path}; '{path} --help' lists its options.";
            }
            if (command.Subcommands.Count > 0)
            {
                var names = command.Subcommands.Select(c => c.Name);
                return Nearest(token, names) is string near
                    ? $"unknown command '{token}'. Did you mean {near}?"
                    : $"unknown command '{token}'. Use one of: {string.Join(", ", names)}.";
            }
            return $"unexpected value '{token}' for {path}; '{path} --help' lists what it takes.";
        }
        var error = result.Errors[0];
        if (error.SymbolResult is OptionResult { Option: var o } optionResult)
        {
            string? kind = Kind(o.ValueType);
            // A repeated option parses as one with too many values, whose first value would otherwise be blamed.
            if (optionResult.Tokens.Count > 1 && o.Arity.MaximumNumberOfValues == 1)
                return $"{o.Name} was given {optionResult.Tokens.Count} times ({string.Join(", ", optionResult.Tokens.Select(t => $"'{t.Value}'"))}); give it once.";
            if (optionResult.Tokens.Count == 0) return $"{o.Name} needs a value{(kind is null ? "" : $": {kind}")}; '{path} --help' says what it takes.";
            if (kind is not null) return $"{o.Name} takes {kind}; got '{optionResult.Tokens[0].Value}'.";
        }
        if (error.SymbolResult is ArgumentResult { Argument: var a } argument)
        {
            if (argument.Tokens.Count == 0 && argument.Parent is CommandResult)
                return $"{path} needs <{a.Name}>: {a.Description?.TrimEnd('.')}.";
            if (Kind(a.ValueType) is string valueKind && argument.Tokens.Count > 0)
                return $"{ArgumentName(argument)} takes {valueKind}; got '{argument.Tokens[0].Value}'.";
        }
        if (error.SymbolResult is CommandResult { Command.Arguments: [var missing, ..] })
            return $"{path} needs <{missing.Name}>: {missing.Description?.TrimEnd('.')}.";
        if (command.Subcommands.Count > 0 && result.CommandResult.Parent is null)
            return $"no command given. Use one of: {string.Join(", ", command.Subcommands.Select(c => c.Name))} ('--help' says what each does).";
        return error.Message.TrimEnd('.') + $"; '{path} --help' says what it takes.";
    }

    /// <summary>The kind of value a type takes, in words; null for text, which always parses.</summary>
    static string? Kind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(double) || t == typeof(float) => "a number",
        var t when t == typeof(bool) => "true or false",
        _ => null,
    };

    static string ArgumentName(ArgumentResult argument) =>
        argument.Parent is OptionResult { Option: var o } ? o.Name : $"<{argument.Argument.Name}>";

    static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
            if (c.Parent is not null) names.Insert(0, c.Command.Name);
        return names.Count == 0 ? "ilgpuvae" : string.Join(" ", names);
    }

    /// <summary>The known name nearest <paramref name="typed"/> by edit distance, when near enough to be a typo.</summary>
    static string? Nearest(string typed, IEnumerable<string> names)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(typed, n))).OrderBy(p => p.Distance).ThenBy(p => p.Name).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, typed.Length / 3) ? best.Name : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
