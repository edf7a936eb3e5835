namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// A theory row that stands for cases that cannot run here, shown as one skipped case with the reason it carries
/// (by <see cref="DeviceTheoryAttribute"/>): its string value starts with <see cref="Prefix"/>.
/// </summary>
internal static class SkippedRow
{
    public const string Prefix = "(skipped) ";

    /// <summary>A row value that is skipped with <paramref name="reason"/>.</summary>
    public static string Reason(string reason) => Prefix + reason;

    /// <summary>The reason a row is skipped for, or null.</summary>
    public static string? ReasonIn(object[] row) =>
        row.OfType<string>().FirstOrDefault(s => s.StartsWith(Prefix, StringComparison.Ordinal))?[Prefix.Length..];
}
