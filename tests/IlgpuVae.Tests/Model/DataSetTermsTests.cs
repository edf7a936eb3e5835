using ILGPU.Runtime;
using IlgpuVae.Data;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>The mean terms of a data set count every image in recon and KL, whatever the last batch's size.</summary>
public sealed class DataSetTermsTests
{
    const int Dim = 8;

    [Fact]
    public void AnImageAloneInTheLastBatchCountsInTheElboButNotInTheMmd()
    {
        var device = TestDevices.Get("cpu");
        using var model = new VaeModel(device, new ModelSpec(Dim, [4], 2, [4]), 2);
        model.Initialize(1);
        // σ ≈ 3e-7: the codes hardly depend on ε, so an image's recon is the same under any batch's draws.
        var theta = DeviceArrays.Download(model.Parameters);
        var logVar = model.Layout["encoder.logvar.bias"];
        for (int j = 0; j < logVar.Length; j++) theta[logVar.Offset + j] = -30f;
        model.Parameters.CopyFromCPU(theta);
        var pixels = Enumerable.Range(0, 3 * Dim).Select(i => i < 2 * Dim ? 0.2f : 0.9f).ToArray();
        using var three = new DeviceDataSet(device, pixels, 3, Dim);
        using var two = new DeviceDataSet(device, pixels[..(2 * Dim)], 2, Dim);
        using var third = new DeviceDataSet(device, pixels[(2 * Dim)..], 1, Dim);
        var objective = ObjectiveSpec.Preset("infovae", 2);

        var all = DataSetTerms.Mean(model, three, objective, seed: 1, binarize: false); // batches {0, 1} and {2}
        var first = DataSetTerms.Mean(model, two, objective, seed: 1, binarize: false);
        var alone = DataSetTerms.Mean(model, third, objective with { Estimator = MmdEstimator.Biased }, seed: 1, binarize: false);

        Tolerance.AssertNear(all.Recon, (2 * first.Recon + alone.Recon) / 3, 1e-5, 1e-5, "recon over all three images");
        Tolerance.AssertNear(all.Kl, (2 * first.Kl + alone.Kl) / 3, 1e-5, 1e-5, "KL over all three images");
        Assert.Equal(first.Mmd, all.Mmd); // the MMD² of the one batch that has an unbiased estimate
        Tolerance.AssertNear(all.Loss, all.Recon + objective.KlWeight * all.Kl + (float)objective.MmdWeight * all.Mmd, 1e-9, 1e-9, "loss");
        Assert.Throws<ArgumentException>(() => DataSetTerms.Mean(model, third, objective, seed: 1, binarize: false));
    }
}
