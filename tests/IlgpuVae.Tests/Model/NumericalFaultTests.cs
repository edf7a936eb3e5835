using ILGPU.Runtime;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Model;

/// <summary>Extreme values stay finite; real numerical faults stop training with a message naming where.</summary>
public sealed class NumericalFaultTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ExtremeLogitsAndLogVariancesGiveFiniteLossAndGradients(string device)
    {
        var c = ModelCase.Random(new ModelSpec(6, [], 2, []), ObjectiveSpec.Preset("infovae", 2), 4, 4, seed: 3);
        // Heads of ±30 log-variance and decoder logits in the hundreds to thousands.
        c.Parameters["encoder.logvar.bias"] = [30f, -30f];
        c.Parameters["decoder.out.weight"] = c.Parameters["decoder.out.weight"].Select(w => w * 1e3f).ToArray();
        using var model = c.Load(device);
        var terms = model.Run(c.Objective, c.Batch, backward: true);
        Assert.True(terms.IsFinite, terms.ToString());
        Assert.All(DeviceArrays.Download(model.Gradients), g => Assert.True(float.IsFinite(g)));
        Assert.All(DeviceArrays.Download(model.DecoderOutput, c.Batch * 6), l => Assert.True(float.IsFinite(l)));
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void OptimizerCountsNonFiniteGradients(string device)
    {
        using var d = new DeviceArrays(TestDevices.Get(device));
        foreach (var kind in Enum.GetValues<OptimizerKind>())
        {
            using var optimizer = new Optimizer(d.Device, new OptimizerSpec(kind), 5000);
            var faults = d.Upload(new int[1]);
            var gradients = new float[5000];
            optimizer.Update(d.Upload(new float[5000]), d.Upload(gradients), faults);
            Assert.Equal(0, DeviceArrays.Download(faults)[0]);
            gradients[3] = float.NaN;
            gradients[4100] = float.NegativeInfinity;
            optimizer.Update(d.Upload(new float[5000]), d.Upload(gradients), faults);
            Assert.Equal(2, DeviceArrays.Download(faults)[0]); // counted on the device by every thread into one value
        }
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ANonFiniteLossStopsTrainingNamingEpochStepAndTerm(string device)
    {
        using var rig = new TrainingRig(TestDevices.Get(device), new ModelSpec(8, [4], 2, [4]), Enumerable.Repeat(0.5f, 32 * 8).ToArray(), 8,
            ObjectiveSpec.Preset("vae", 2), initSeed: 1, trainSeed: 1, optimizer: new OptimizerSpec());
        var theta = DeviceArrays.Download(rig.Model.Parameters);
        theta[rig.Model.Layout["decoder.out.bias"].Offset] = float.NaN;
        rig.Model.Parameters.CopyFromCPU(theta);
        var e = Assert.Throws<NumericalFaultException>(() => rig.Epoch());
        // The terms are read a step late, so the fault is noticed during step 2 and named as step 1's.
        Assert.Contains("epoch 1, step 1:", e.Message);
        Assert.Contains("recon is not finite", e.Message);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ANonFiniteGradientStopsTrainingWithItsCount(string device)
    {
        // A Gaussian decoder of log-variance −89: its precision e⁸⁹ is past float's range, so every gradient of the output
        // is infinite (or NaN where the mean is exact) while the loss, reduced in double, stays finite — only the
        // optimizer's count of non-finite gradients can stop this run.
        using var rig = new TrainingRig(TestDevices.Get(device), new ModelSpec(8, [4], 2, [4], Activation.Tanh, Likelihood.Gaussian, -89f),
            Enumerable.Repeat(0.5f, 32 * 8).ToArray(), 8, ObjectiveSpec.Preset("vae", 2), initSeed: 1, trainSeed: 1, optimizer: new OptimizerSpec());
        var e = Assert.Throws<NumericalFaultException>(() => rig.Epoch());
        Assert.Matches(@"epoch 1, step 1: \d+ gradient value\(s\) are not finite, first in encoder\.0\.weight \(loss [0-9.E+]+\)", e.Message);
        Assert.DoesNotContain("recon", e.Message);
    }
}

/// <summary>A device that cannot hold what is asked for: one message naming the device, the size and what to do.</summary>
public sealed class DeviceFaultTests
{
    [Fact]
    public void AnAllocationTheDeviceRefusesIsReportedWithDeviceSizeAndRemedy()
    {
        // Four terabytes: more than this machine has, so the allocator refuses at once.
        var memory = new IlgpuVae.Compute.DeviceMemory(TestDevices.Get("cpu"), "a test buffer");
        var e = Assert.Throws<IlgpuVae.Compute.DeviceFaultException>(() => memory.Floats(1L << 40));
        Assert.Contains("cpu (", e.Message);
        Assert.Contains("4096.0 GB for a test buffer", e.Message);
        Assert.Contains("RunConfig.BatchSize", e.Message);
    }

    [Fact]
    public void ABatchWhoseActivationsOutgrowAnIndexIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new VaeModel(TestDevices.Get("cpu"), new ModelSpec(4, [1 << 16], 2, []), 1 << 16));
        Assert.Contains("RunConfig.BatchSize", e.Message);
    }

    [Fact]
    public void AModelWithMoreParametersThanAnIndexHoldsIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ParameterLayout.Of(new ModelSpec(1 << 20, [1 << 20], 2, [])));
        Assert.Contains("parameters", e.Message);
    }
}
