using IlgpuVae.Data;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// Short training runs on generated data: the loss falls for every preset, and a run repeats bit for bit.
/// The loss is measured by <see cref="DataSetTerms.Mean"/> over the whole set with fixed draws before and after,
/// because a single batch's λ = 1000 MMD term is noisy enough to hide the trend.
/// </summary>
public sealed class TrainingTests
{
    const int Dim = 64, Rows = 480, Batch = 48;

    public static TheoryData<string, string> Cases() => TestDevices.Cross(ObjectiveSpec.PresetNames);

    /// <summary>Noisy copies of four binary prototype patterns: easy to compress into a small code.</summary>
    static float[] Patterns()
    {
        var random = new Random(3);
        var prototypes = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, Dim).Select(_ => random.NextDouble() < 0.5 ? 0.9f : 0.1f).ToArray()).ToArray();
        var data = new float[Rows * Dim];
        for (int r = 0; r < Rows; r++)
            for (int i = 0; i < Dim; i++)
                data[r * Dim + i] = Math.Clamp(prototypes[r % 4][i] + (float)(0.05 * (random.NextDouble() - 0.5)), 0f, 1f);
        return data;
    }

    static (LossTerms Before, LossTerms After, float[] Parameters) Train(string preset, string device, int epochs)
    {
        using var rig = new TrainingRig(TestDevices.Get(device), new ModelSpec(Dim, [16], 2, [16]), Patterns(), Batch, ObjectiveSpec.Preset(preset, 2), initSeed: 5);
        var before = rig.Trainer.Evaluate(rig.Data);
        rig.Epochs(epochs);
        return (before, rig.Trainer.Evaluate(rig.Data), DeviceArrays.Download(rig.Model.Parameters));
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void LossFalls(string preset, string device)
    {
        var (before, after, _) = Train(preset, device, epochs: 5);
        Assert.True(after.Loss < before.Loss, $"{preset}: loss went from {before} to {after}");
        Assert.True(after.Recon < 0.95 * before.Recon, $"{preset}: reconstruction went from {before.Recon} to {after.Recon}");
    }

    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void SameSeedGivesBitIdenticalParameters(string device)
    {
        var (_, _, a) = Train("infovae", device, epochs: 2);
        var (_, _, b) = Train("infovae", device, epochs: 2);
        Assert.Equal(a, b);
    }

    public static TheoryData<string> DeviceNames => TestDevices.All;
}
