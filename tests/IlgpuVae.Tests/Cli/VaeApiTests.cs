using IlgpuVae.Data;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>The C# API on images made in memory: train, encode, decode, sample, evaluate, save, load, and its refusals.</summary>
public sealed class VaeApiTests
{
    static readonly RunConfig Tiny = new() { Hidden = [12], Latent = 2, BatchSize = 16, Epochs = 2, Device = "cpu", Model = "vae" };

    /// <summary>Bars of random brightness at random rows, 6×5.</summary>
    static ImageSet Bars(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[count * 30];
        for (int i = 0; i < count; i++)
        {
            int row = random.Next(6);
            float value = 0.5f + 0.5f * random.NextSingle();
            for (int x = 0; x < 5; x++) pixels[i * 30 + row * 5 + x] = value;
        }
        return new ImageSet("bars", 6, 5, pixels); // unlabelled: the count comes from the pixels
    }

    [Fact]
    public void TrainsInMemoryAndSavesWhatLoadReadsBack()
    {
        var reports = new List<TrainingProgress>();
        using var vae = Vae.Train(Bars(64, 1), Bars(16, 2), Tiny, progress: new Recorder(reports));
        Assert.Null(vae.Folder);
        Assert.Equal(new IlgpuVae.Model.ImageShape(1, 6, 5), vae.Image);
        Assert.Equal(2, reports.Count(r => r.Stage == TrainingStage.EpochCompleted));
        Assert.Equal(8, reports.Count(r => r.Stage == TrainingStage.Step));

        var images = Bars(3, 3).Pixels;
        var (mu, logVar) = vae.Encode(images);
        Assert.Equal(6, mu.Length);
        Assert.Equal(6, logVar.Length);
        var decoded = vae.Decode(mu);
        Assert.Equal(90, decoded.Length);
        Assert.All(decoded, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(vae.Sample(4, seed: 5), vae.Sample(4, seed: 5));
        var result = vae.Evaluate(Bars(16, 2), new Evaluation.EvalOptions { ImportanceSamples = 4 });
        Assert.True(result.NegativeElbo > 0);
        Assert.DoesNotContain("System.", result.ToString());
        Assert.Contains($"kl_per_dim = [{string.Join(", ", result.KlPerDimension.Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}]", result.ToString());

        using var temp = new TempFolder();
        string saved = vae.Save(temp.File("saved"));
        Assert.Equal([RunFolder.ConfigFile, RunFolder.ModelFile], Directory.GetFiles(saved).Select(Path.GetFileName).Order());
        using var loaded = Vae.Load(saved);
        Assert.Equal(mu, loaded.Encode(images).Mu);
        Assert.Equal(decoded, loaded.Decode(mu));
        Assert.Equal(vae.Config.ToJson(), loaded.Config.ToJson());
        // The weights alone: resuming needs the optimizer's state, and the refusal says so.
        var e = Assert.Throws<RunFolderException>(() => Vae.Resume(saved, data: (Bars(64, 1), Bars(16, 2))));
        Assert.Contains("which Vae.Save does not write", e.Message);
    }

    [Fact]
    public void RefusesInputsThatAreNotWholeImagesOrCodes()
    {
        using var vae = Vae.Train(Bars(32, 1), Bars(8, 2), Tiny with { Epochs = 1 });
        Assert.Contains("do not make whole images of 30", Assert.Throws<ArgumentException>(() => vae.Encode(new float[31])).Message);
        Assert.Contains("do not make whole codes of 2", Assert.Throws<ArgumentException>(() => vae.Decode(new float[3])).Message);
        var turned = new ImageSet("turned", 5, 6, new float[60], new int[2], []);
        Assert.Contains("the run was trained on 1×6×5 images", Assert.Throws<ArgumentException>(() => vae.Evaluate(turned)).Message);
    }

    [Fact]
    public void RefusesPixelsOutsideTheUnitInterval()
    {
        var bad = Bars(32, 1);
        bad.Pixels[40] = 2f;
        var e = Assert.Throws<DataFormatException>(() => Vae.Train(bad, Bars(8, 2), Tiny));
        Assert.Contains("image 1 has pixel 10 = 2", e.Message);
    }

    sealed class Recorder(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
