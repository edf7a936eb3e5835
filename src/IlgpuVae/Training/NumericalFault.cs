using System.Globalization;
using IlgpuVae.Metrics;

namespace IlgpuVae.Training;

/// <summary>
/// A loss, gradient or estimate became NaN or infinite: the message names the term or estimator and where (the
/// epoch and step, or the evaluation), and what was kept. Nothing non-finite is ever written to a file.
/// </summary>
public sealed class NumericalFaultException(string message) : Exception(message);

/// <summary>
/// The last check before numbers leave for a file or a table: every value of a metrics line or an evaluation must
/// be a finite number (or null, for an estimate that was skipped), else <see cref="NumericalFaultException"/>.
/// </summary>
internal static class NumericalGuard
{
    /// <summary>
    /// Throws, naming the first key whose value (or one of whose elements) is not finite, as "{context}: {meaning}
    /// ({key}) is NaN. {kept}".
    /// </summary>
    public static void RequireFinite(IEnumerable<KeyValuePair<string, object?>> values, string context, string kept)
    {
        foreach (var (key, value) in values)
        {
            double? bad = value switch
            {
                double d when !double.IsFinite(d) => d,
                float f when !float.IsFinite(f) => f,
                double[] a when a.FirstOrDefault(v => !double.IsFinite(v), 0) is var v && !double.IsFinite(v) => v,
                _ => null,
            };
            if (bad is double b)
                throw new NumericalFaultException($"{context}: {MetricKey.Meaning(key)} ({key}) is {Describe(b)}. {kept}".TrimEnd());
        }
    }

    /// <summary>NaN, +∞ or −∞, as the messages say it.</summary>
    public static string Describe(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "+∞" : double.IsNegativeInfinity(value) ? "−∞"
            : value.ToString("G6", CultureInfo.InvariantCulture);
}
