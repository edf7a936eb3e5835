using System.Text.Json;
using IlgpuVae.Data;

namespace IlgpuVae.Runs;

/// <summary>
/// Test-set numbers of a trained model, as written to eval.json (flat keys): the loss terms of the run's
/// objective and the negative ELBO averaged over several draws of z per image.
/// </summary>
public static class EvalReport
{
    public static Dictionary<string, object> Run(TrainedModel trained, ImageSet test, int elboSamples = 4)
    {
        var config = trained.Config;
        var objective = config.Objective();
        using var data = new DeviceDataSet(trained.Device, test.Pixels, test.Count, test.Dim);
        var sums = new double[4];
        for (int s = 0; s < elboSamples; s++)
        {
            // A different seed per pass gives a different ε for every image.
            var t = Evaluation.MeanTerms(trained.Model, data, objective, (ulong)config.Seed + (ulong)s, config.DynamicBinarization);
            sums[0] += t.Recon; sums[1] += t.Kl; sums[2] += t.Mmd; sums[3] += t.Loss;
        }
        double recon = sums[0] / elboSamples, kl = sums[1] / elboSamples;
        return new Dictionary<string, object>
        {
            ["test_neg_elbo"] = recon + kl,
            ["test_recon"] = recon,
            ["kl"] = kl,
            ["test_mmd"] = sums[2] / elboSamples,
            ["test_loss"] = sums[3] / elboSamples,
            ["bits_per_dim"] = (recon + kl) / (test.Dim * Math.Log(2)),
            ["elbo_samples"] = elboSamples,
            ["images"] = test.Count,
        };
    }

    public static void Write(string path, IReadOnlyDictionary<string, object> values) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(values, new JsonSerializerOptions { WriteIndented = true }));
}
