using System.Globalization;
using System.Text.Json;
using IlgpuVae.Data;
using IlgpuVae.IO;
using IlgpuVae.Metrics;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// <c>eval --disentanglement</c>, <c>--factors</c> and <c>--codes</c> end to end on the tiny sprites run, with sample sizes
/// small enough for seconds: the metrics in eval.json and the table, the pictures, the codes file against
/// <see cref="Vae.Encode"/>, a factors file on IDX data, and the refusals.
/// </summary>
public sealed class DisentanglementEvalTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    static readonly string[] SmallSizes =
    [
        "--iwae-k", "0", "--factor-train", "120", "--factor-test", "60", "--score-batch", "8", "--betavae-train", "30",
        "--betavae-eval", "20", "--factorvae-train", "30", "--factorvae-eval", "20", "--factorvae-variance", "100",
    ];

    [Fact]
    public void OnSpritesItWritesTheMetricsThePicturesAndTheCodes()
    {
        using var temp = new TempFolder();
        string codes = temp.File("codes.safetensors");
        var (exit, output, error) = CliRunner.Run(["eval", run.Run, "--disentanglement", "--codes", codes, "--out", temp.Path, .. SmallSizes]);
        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "eval.json"))).RootElement;
        foreach (var key in MetricKey.Disentanglement)
        {
            double value = json.GetProperty(key).GetDouble();
            if (key is not (MetricKey.DisentanglementSeconds or MetricKey.FactorVaeActiveDims)) Assert.InRange(value, 0, 1);
            Assert.Contains(MetricKey.Meaning(key), output);
        }
        Assert.True(File.Exists(Path.Combine(temp.Path, IlgpuVae.Disentanglement.DisentanglementPictures.MiChart)));
        using var vae = Vae.Load(run.Run);
        for (int j = 0; j < vae.LatentDim; j++)
            Assert.True(File.Exists(Path.Combine(temp.Path, IlgpuVae.Disentanglement.DisentanglementPictures.TraversalFile(j))), $"traversal of z{j}");

        // The codes file holds what Vae.Encode gives for the evaluated images, with their labels and factors.
        var test = IlgpuVae.Cli.Commands.EvalCommand.LoadTest(vae.Config, null, 0);
        var (mu, logVar) = vae.Encode(test.Pixels);
        var (tensors, metadata) = SafeTensors.ReadWithMetadata(codes);
        var byName = tensors.ToDictionary(t => t.Name);
        Assert.Equal([test.Count, vae.LatentDim], byName["mu"].Shape);
        Assert.Equal(mu, byName["mu"].Data);
        Assert.Equal(logVar, byName["logvar"].Data);
        Assert.Equal(test.Labels.Select(l => (float)l), byName["labels"].Data);
        Assert.Equal(test.Factors, byName["factors"].Data);
        Assert.Equal(string.Join(",", test.FactorNames), metadata["factor_names"]);
    }

    [Fact]
    public void DataWithoutFactorsIsRefusedNamingTheOption()
    {
        using var temp = new TempFolder();
        string data = WriteIdxSprites(temp.File("idx"), 40, out _);
        var (exit, _, error) = CliRunner.Run(["eval", run.Run, "--data", data, "--disentanglement", "--out", temp.Path, .. SmallSizes]);
        Assert.Equal(1, exit);
        Assert.Contains("--disentanglement", error);
        Assert.Contains("--factors", error);
        Assert.False(File.Exists(Path.Combine(temp.Path, "eval.json")));
    }

    [Fact]
    public void AFactorsFileBringsFactorsAndTooFewImagesSayWhichMetricNeedsHowMany()
    {
        using var temp = new TempFolder();
        string data = WriteIdxSprites(temp.File("idx"), 200, out string factors);
        string[] eval = ["eval", run.Run, "--data", data, "--limit", "200", "--factors", factors, "--disentanglement", "--out", temp.Path];
        var (exit, output, error) = CliRunner.Run([.. eval, .. SmallSizes]);
        Assert.True(exit == 0, error);
        Assert.Contains(MetricKey.Meaning(MetricKey.Mig), output);

        (exit, _, error) = CliRunner.Run([.. eval, "--iwae-k", "0", "--factor-train", "150", "--factor-test", "100"]);
        Assert.Equal(1, exit);
        Assert.Contains("MIG, DCI, SAP and modularity/explicitness need 250 distinct images", error);
        Assert.Contains("has 200", error);
    }

    /// <summary>
    /// Sprites as an IDX test set of <paramref name="count"/> images (bytes) and a factors file of two of their factors,
    /// shape and scale (few classes, so few classifiers to fit); returns the folder.
    /// </summary>
    static string WriteIdxSprites(string folder, int count, out string factorsFile)
    {
        var sprites = Sprites.Generate(count, seed: 5);
        var bytes = sprites.Pixels.Select(p => (byte)Math.Round(p * 255)).ToArray();
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, DataSources.TestImages), IdxFiles.Encode(bytes, count, 28, 28));
        File.WriteAllBytes(Path.Combine(folder, DataSources.TrainImages), IdxFiles.Encode(bytes, count, 28, 28));
        factorsFile = Path.Combine(folder, "factors.csv");
        int f = sprites.FactorNames.Length;
        File.WriteAllLines(factorsFile, ["# shape and scale of each test image", "shape,scale",
            .. Enumerable.Range(0, count).Select(i => string.Join(",", sprites.Factors!.Skip(i * f).Take(2).Select(v => v.ToString(CultureInfo.InvariantCulture))))]);
        return folder;
    }
}
