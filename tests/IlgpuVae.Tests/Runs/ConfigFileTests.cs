using System.Reflection;
using System.Text.Json.Nodes;
using IlgpuVae.Runs;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;
using IlgpuVae.Tests.Golden;

namespace IlgpuVae.Tests.Runs;

/// <summary>
/// config.json as the settings' declarations define it: every file an earlier version wrote still loads and means what
/// it meant; a key no version wrote, a missing key every version wrote and a newer format are refused by name.
/// </summary>
public sealed class ConfigFileTests
{
    static string LegacyFolder => Path.Combine(GoldenFolders.Root, "tests", "IlgpuVae.Tests", "Runs", "LegacyConfigs");

    public static TheoryData<string> LegacyFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(LegacyFolder, "*.json").Order()) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void ThereAreConfigsFromEarlierVersions()
    {
        int files = Directory.GetFiles(LegacyFolder, "*.json").Length;
        Assert.True(files >= 5, $"only {files} files in {LegacyFolder}");
    }

    [Theory]
    [MemberData(nameof(LegacyFiles))]
    public void AConfigAnEarlierVersionWroteLoadsAndMeansWhatItMeant(string file)
    {
        string path = Path.Combine(LegacyFolder, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var config = RunConfig.FromJson(json.ToJsonString(), path).Validate();
        // Every key the file has reads back as written.
        var written = JsonNode.Parse(config.ToJson())!.AsObject();
        foreach (var (key, value) in json)
            Assert.True(JsonNode.DeepEquals(value, written[key]), $"{file}: {key} was {value?.ToJsonString()}, reads as {written[key]?.ToJsonString()}");
        // What a missing key means: the MADEs of runs from before made_degrees were cyclic; files before the format key are format 1.
        if (!json.ContainsKey("made_degrees")) Assert.Equal(RunConfig.LegacyMadeDegrees, config.MadeDegrees);
        if (!json.ContainsKey("format_version")) Assert.Equal(1, config.FormatVersion);
    }

    [Fact]
    public void ANewConfigIsWrittenInTheCurrentFormatAndReadsBackTheSame()
    {
        var config = new RunConfig { Arch = "conv", Channels = [8, 16], Decoder = "made", MadeDegrees = "cyclic", KlWarmupEpochs = 1.5 };
        string json = config.ToJson();
        Assert.Contains($"\"format_version\": {RunSettings.FormatVersion}", json);
        Assert.Equal(json, RunConfig.FromJson(json, "config.json").ToJson());
    }

    [Fact]
    public void AKeyNoVersionWroteIsRefusedByName()
    {
        var json = JsonNode.Parse(new RunConfig().ToJson())!.AsObject();
        json["latnet"] = 3;
        var e = Assert.Throws<ArgumentException>(() => RunConfig.FromJson(json.ToJsonString(), "runs/a/config.json"));
        Assert.Contains("runs/a/config.json holds the key 'latnet', which no version of IlgpuVae writes", e.Message);
    }

    [Fact]
    public void AMissingKeyEveryVersionWroteIsRefusedNotDefaulted()
    {
        var json = JsonNode.Parse(new RunConfig { Latent = 7 }.ToJson())!.AsObject();
        json.Remove("latent");
        var e = Assert.Throws<ArgumentException>(() => RunConfig.FromJson(json.ToJsonString(), "runs/a/config.json"));
        Assert.Contains("runs/a/config.json lacks 'latent', which every version of IlgpuVae writes", e.Message);
    }

    [Fact]
    public void AKeyAnOlderVersionDidNotWriteTakesItsDocumentedMeaning()
    {
        var json = JsonNode.Parse(new RunConfig().ToJson())!.AsObject();
        foreach (var key in new[] { "free_bits", "kl_warmup_epochs", "decoder", "posterior", "made_degrees", "format_version", "kl_term" }) json.Remove(key);
        var config = RunConfig.FromJson(json.ToJsonString(), "config.json");
        Assert.Equal((0.0, 0.0, "mlp", "gaussian", "cyclic", 1), (config.FreeBits, config.KlWarmupEpochs, config.Decoder, config.Posterior, config.MadeDegrees, config.FormatVersion));
    }

    [Fact]
    public void AFileFromANewerVersionIsRefusedAsSuch()
    {
        var json = JsonNode.Parse(new RunConfig().ToJson())!.AsObject();
        json["format_version"] = RunSettings.FormatVersion + 1;
        var e = Assert.Throws<ArgumentException>(() => RunConfig.FromJson(json.ToJsonString(), "config.json"));
        Assert.Contains("written by a newer version of IlgpuVae", e.Message);
    }

    [Fact]
    public void EveryPropertyConfigJsonHoldsIsDeclaredOnceWithItsOwnOptionAndKey()
    {
        var serialized = JsonNode.Parse(new RunConfig().ToJson())!.AsObject().Select(p => p.Key).ToHashSet();
        var declared = typeof(RunConfig).GetProperties()
            .Where(p => p.GetCustomAttribute<SettingAttribute>() is not null || p.GetCustomAttribute<RecordedAttribute>() is not null)
            .Select(p => RunSettings.Key(p.Name)).ToHashSet();
        Assert.Equal(serialized.Order(), declared.Order());
        Assert.Equal(RunSettings.All.Count, RunSettings.All.Select(s => s.Option).Distinct().Count());
        Assert.All(RunSettings.All, s => Assert.StartsWith("--", s.Option));
        Assert.All(RunSettings.All.Where(s => s.Declaration.Excludes is not null), s => RunSettings.Of(s.Declaration.Excludes!));
    }

    [Fact]
    public void EveryPieceIsChosenBySettingsThatExist()
    {
        foreach (var piece in Enum.GetValues<Piece>().Where(p => p != Piece.Any))
        {
            var choosers = typeof(Piece).GetField(piece.ToString())!.GetCustomAttributes<ChosenByAttribute>().ToList();
            Assert.NotEmpty(choosers);
            Assert.All(choosers, c => RunSettings.Of(c.Property));
        }
        // And each is chosen by what it says: the default run has a dense MLP decoder and a Gaussian posterior, no convs.
        var run = new RunConfig();
        Assert.True(RunSettings.IsChosen(Piece.DenseDecoder, run));
        Assert.False(RunSettings.IsChosen(Piece.Conv, run));
        Assert.True(RunSettings.IsChosen(Piece.Mades, run with { Posterior = "IAF" }));
        Assert.True(RunSettings.IsChosen(Piece.EpochEvaluation, run with { EvalEvery = 2 }));
    }

    [Fact]
    public void TheCSharpApiRefusesASettingOfAPieceTheRunLacksInItsOwnNames()
    {
        var e = Assert.Throws<ArgumentException>(() => RunSettings.RequireChosenPieces(new RunConfig { PixelcnnLayers = 2 }));
        Assert.Contains("RunConfig.PixelcnnLayers = 2 belongs to RunConfig.Decoder = pixelcnn, and this run has RunConfig.Decoder = mlp", e.Message);
        RunSettings.RequireChosenPieces(new RunConfig { Decoder = "pixelcnn", PixelcnnLayers = 2 });
    }
}
