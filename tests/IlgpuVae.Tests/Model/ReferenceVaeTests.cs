using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Golden;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Verification;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The double-precision reference is itself checked: against PyTorch's fixtures, and its analytic gradient
/// against central differences of its own loss.
/// </summary>
public sealed class ReferenceVaeTests
{
    /// <summary>
    /// The dense fixtures of both folders (<see cref="GoldenFolders"/>; the reference is the dense model's, with the
    /// analytic KL: a β-TC-VAE fixture's estimator is checked against its own double reference in TotalCorrelationTests).
    /// </summary>
    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (var source in new[] { GoldenFolders.Golden, GoldenFolders.Repository })
        {
            var files = GoldenFolders.Files(source);
            foreach (var f in files)
                if (GoldenFixture.Load(f) is { Model: { Conv: null, Flow: null } dense, Objective.TotalCorrelation: null } && dense.DecoderKind == DecoderKind.Mlp)
                    data.Add(source, Path.GetFileName(f));
            if (files.Length == 0) data.Add(source, GoldenFolders.CaseNames(source)[0]);
        }
        return data;
    }

    [DeviceTheory]
    [MemberData(nameof(Fixtures))]
    public void MatchesTheGoldenFixtures(string source, string fixture)
    {
        var path = GoldenFolders.FixturePath(source, fixture);
        Assert.True(File.Exists(path), $"No golden fixture: {fixture}. The folder {GoldenFolders.Folder(source)} must hold *.json fixtures (golden/README.md).");
        var f = GoldenFixture.Load(path);
        var r = new ReferenceVae(f.Model, f.Objective, f.ObsLogVar).Evaluate(
            f.Parameters.ToDictionary(p => p.Key, p => p.Value.Data), f.X.Data, f.Eps, f.PriorZ.Data, f.X.Rows);
        foreach (var (name, got) in new[] { ("recon", r.Recon), ("kl", r.Kl), ("mmd", r.Mmd), ("loss", r.Loss) })
            Tolerance.AssertNear(got, f.Expected.GetProperty(name).GetDouble(), 1e-9, 1e-12, name);
        var grads = f.Expected.GetProperty("grads");
        foreach (var (name, g) in r.Grads)
        {
            var want = GoldenFixture.Tensor(grads.GetProperty(name)).Data;
            for (int i = 0; i < g.Length; i++) Tolerance.AssertNear(g[i], want[i], 1e-8, 1e-12, name);
        }
    }

    [Theory]
    [InlineData("vae", 0)]
    [InlineData("beta-vae", 1)]
    [InlineData("infovae", 2)]
    [InlineData("mmd-vae", 3)]
    public void GradientMatchesCentralDifferences(string preset, int seed)
    {
        var spec = new ModelSpec(6, [5], 2, [], IlgpuVae.Kernels.Activation.Tanh, seed % 2 == 0 ? Likelihood.Bernoulli : Likelihood.Gaussian);
        var c = ModelCase.Random(spec, ObjectiveSpec.Preset(preset, 2), batch: 4, priorCount: 5, seed);
        var p = c.Parameters.ToDictionary(kv => kv.Key, kv => TestData.ToDouble(kv.Value));
        var reference = new ReferenceVae(c.Spec, c.Objective);
        double Loss() => reference.Evaluate(p, TestData.ToDouble(c.X), TestData.ToDouble(c.Eps), TestData.ToDouble(c.Prior), c.Batch).Loss;
        var analytic = c.Reference().Grads;
        const double h = 1e-6;
        foreach (var (name, values) in p)
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + h; double up = Loss();
                values[i] = keep - h; double down = Loss();
                values[i] = keep;
                Tolerance.AssertNear(analytic[name][i], (up - down) / (2 * h), 1e-5, 1e-6, $"{preset} {name}[{i}]");
            }
    }
}
