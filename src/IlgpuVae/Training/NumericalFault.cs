using System.Globalization;

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
    /// <summary>What each key measures, for the message; keys not listed are named as they are.</summary>
    static readonly Dictionary<string, string> Meanings = new()
    {
        ["train_loss"] = "the training loss", ["train_recon"] = "the training reconstruction term",
        ["train_kl"] = "the training KL term", ["train_mmd"] = "the training MMD²", ["train_neg_elbo"] = "the training −ELBO",
        ["test_loss"] = "the test loss", ["test_recon"] = "the test reconstruction term", ["test_kl"] = "the test KL term",
        ["test_mmd"] = "the test MMD²", ["test_neg_elbo"] = "the test −ELBO", ["iwae_nll"] = "the importance-weighted NLL",
        ["bits_per_dim"] = "the bits per dimension", ["mi"] = "the mutual information", ["mmd_aggregate"] = "the aggregate MMD²",
        ["kl"] = "the KL", ["kl_per_dim"] = "the KL per dimension", ["mu_variance"] = "the variance of the posterior means",
        ["seconds"] = "the epoch's time", ["images_per_second"] = "the throughput",
    };

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
                throw new NumericalFaultException($"{context}: {Meanings.GetValueOrDefault(key, key)} ({key}) is {Describe(b)}. {kept}".TrimEnd());
        }
    }

    /// <summary>NaN, +∞ or −∞, as the messages say it.</summary>
    public static string Describe(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "+∞" : double.IsNegativeInfinity(value) ? "−∞"
            : value.ToString("G6", CultureInfo.InvariantCulture);
}
