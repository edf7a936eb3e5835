using IlgpuVae.Data;
using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// <c>eval --codes FILE</c>: the evaluated images' posteriors as safetensors, for tools outside (numpy, scikit-learn,
/// disentanglement_lib). Tensors, float32: <c>mu</c> and <c>logvar</c> [N, k], the posterior means and log variances that
/// <see cref="Vae.Encode"/> gives; <c>labels</c> [N] when the data has labels (-1 for an unlabelled image); <c>factors</c>
/// [N, F] when it has factors. Metadata: <c>factor_names</c> and <c>label_names</c> (comma-separated), <c>data</c> (the set's name).
/// </summary>
internal static class CodesFile
{
    /// <summary>Writes the file for <paramref name="data"/>, whose posteriors are <paramref name="mu"/> and <paramref name="logVar"/>.</summary>
    public static void Write(string path, ImageSet data, float[] mu, float[] logVar, int latent)
    {
        int n = data.Count;
        var tensors = new List<NamedTensor> { new("mu", [n, latent], mu), new("logvar", [n, latent], logVar) };
        if (data.Labels.Any(l => l >= 0)) tensors.Add(new("labels", [n], Array.ConvertAll(data.Labels, l => (float)l)));
        if (data.Factors is { } factors) tensors.Add(new("factors", [n, data.FactorNames.Length], factors));
        var metadata = new Dictionary<string, string> { ["data"] = data.Name };
        if (data.Factors is not null) metadata["factor_names"] = string.Join(",", data.FactorNames);
        if (data.LabelNames.Length > 0) metadata["label_names"] = string.Join(",", data.LabelNames);
        SafeTensors.Write(path, tensors, metadata);
    }
}
