using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The device model against the double-precision reference, on shapes and settings the public fixtures do
/// not cover: every preset, M ≠ B, empty hidden lists, asymmetric encoder and decoder, Gaussian output, sizes
/// larger than a GEMM tile and not multiples of it. Every term and every gradient within 1e-4 (norm-wise).
/// </summary>
public sealed class DeviceModelTests
{
    public static TheoryData<string, string> Cases() => TestDevices.Cross(Specs.Keys);

    static readonly Dictionary<string, Func<ModelCase>> Specs = new()
    {
        ["vae relu"] = () => ModelCase.Random(new ModelSpec(12, [10], 3, [10]), ObjectiveSpec.Preset("vae", 3), 6, 6, 1),
        ["beta-vae M<B"] = () => ModelCase.Random(new ModelSpec(9, [8], 2, [7], Activation.Softplus), ObjectiveSpec.Preset("beta-vae", 2), 9, 4, 2),
        ["infovae M>B rbf biased"] = () => ModelCase.Random(new ModelSpec(10, [9, 5], 3, [6], Activation.LeakyRelu),
            new ObjectiveSpec(0, 100, MmdKernel.Rbf, 1.3, MmdEstimator.Biased), 7, 11, 3),
        ["mmd-vae no hidden"] = () => ModelCase.Random(new ModelSpec(8, [], 3, []), ObjectiveSpec.Preset("mmd-vae", 3), 5, 5, 4),
        ["gaussian tanh asymmetric"] = () => ModelCase.Random(new ModelSpec(7, [], 4, [9, 6], Activation.Tanh, Likelihood.Gaussian, -0.5f),
            ObjectiveSpec.Preset("infovae", 4), 6, 8, 5),
        ["wide odd sizes"] = () => ModelCase.Random(new ModelSpec(37, [21], 5, [19], Activation.Relu), ObjectiveSpec.Preset("infovae", 5), 19, 13, 6, 0.3),
    };

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDoublePrecisionReference(string name, string device)
    {
        var c = Specs[name]();
        var want = c.Reference();
        using var model = c.Load(device);
        var got = model.Run(c.Objective, c.Batch, backward: true);

        foreach (var (term, g, w) in new[] { ("recon", got.Recon, want.Recon), ("kl", got.Kl, want.Kl), ("loss", got.Loss, want.Loss) })
            Tolerance.AssertNear(g, w, 1e-4, 1e-6, term);
        // MMD² is a small difference of sums: compare it on the scale of its parts.
        Tolerance.AssertNear(got.Mmd, want.Mmd, 0, 1e-5, "mmd");
        Tolerance.AssertClose(DeviceArrays.Download(model.Z, want.Z.Length), want.Z, 1e-4, "z");
        Tolerance.AssertClose(DeviceArrays.Download(model.DecoderOutput, want.Output.Length), want.Output, 1e-4, "decoder output");
        foreach (var (tensor, data) in IlgpuVae.Model.ModelTensors.Read(model, gradients: true))
            Tolerance.AssertClose(data, want.Grads[tensor.Name], 1e-4, $"grad {tensor.Name}");
    }

    [DeviceTheory]
    [MemberData(nameof(TestDevicesData))]
    public void ForwardOnlyLeavesGradientsAloneAndGivesTheSameTerms(string device)
    {
        var c = Specs["vae relu"]();
        using var model = c.Load(device);
        var withGrad = model.Run(c.Objective, c.Batch, backward: true);
        var grads = DeviceArrays.Download(model.Gradients);
        var forward = model.Run(c.Objective, c.Batch, backward: false);
        Assert.Equal(withGrad, forward);
        Assert.Equal(grads, DeviceArrays.Download(model.Gradients));
    }

    public static TheoryData<string> TestDevicesData => TestDevices.All;
}
