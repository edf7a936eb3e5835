using System.Text.Json;

namespace IlgpuVae.Runs;

/// <summary>
/// What is wrong with a config.json that does not read, in the file's own terms — the line, the key and the kind of
/// value it takes — rather than .NET's (System.Int32, IlgpuVae.Runs.RunConfig).
/// </summary>
internal static class ConfigErrors
{
    public static string Describe(JsonException e)
    {
        string line = e.LineNumber is long n ? $"line {n + 1}: " : "";
        string key = e.Path is { Length: > 2 } path && path.StartsWith("$.") ? path[2..].Split('[', '.')[0] : "";
        var property = typeof(RunConfig).GetProperties().FirstOrDefault(p => RunConfig.Json.PropertyNamingPolicy!.ConvertName(p.Name) == key);
        string detail = e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.', ' ');
        if (property is not null && detail.Contains("could not be converted"))
            return $"{line}{key} must be {Kind(property.PropertyType)}.";
        if (e.Path == "$" && detail.Contains("could not be converted"))
            return $"{line}it must hold one JSON object of settings, as train writes it.";
        return $"{line}it is not valid JSON ({detail}).";
    }

    static readonly System.Reflection.PropertyInfo[] NotNullable = typeof(RunConfig).GetProperties()
        .Where(p => !p.PropertyType.IsValueType && new System.Reflection.NullabilityInfoContext().Create(p).WriteState == System.Reflection.NullabilityState.NotNull)
        .ToArray();

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming <paramref name="source"/> and the key when a setting that takes a
    /// string or a list holds null (JSON's null deserializes into any reference, and would fail far from the file).
    /// </summary>
    public static void RequireValues(RunConfig config, string source)
    {
        if (NotNullable.FirstOrDefault(p => p.GetValue(config) is null) is { } property)
            throw new ArgumentException($"{source} is not a valid run configuration: {RunConfig.Json.PropertyNamingPolicy!.ConvertName(property.Name)} " +
                                        $"must be {Kind(property.PropertyType)}, not null. Fix it as train wrote it, or train again.");
    }

    /// <summary>The kind of JSON value a property takes, in words.</summary>
    static string Kind(Type type) => Nullable.GetUnderlyingType(type) is { } inner ? $"{Kind(inner)} or null"
        : type == typeof(int) || type == typeof(long) ? "a whole number"
        : type == typeof(double) || type == typeof(float) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(int[]) ? "a list of whole numbers, such as [400]"
        : "a string";
}
