using ILGPU.Runtime;
using IlgpuVae.Data;
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
        var dev = TestDevices.Get(device);
        using var model = new VaeModel(dev, new ModelSpec(8, [4], 2, [4]), 8);
        model.Initialize(1);
        var theta = DeviceArrays.Download(model.Parameters);
        theta[model.Layout["decoder.out.bias"].Offset] = float.NaN;
        model.Parameters.CopyFromCPU(theta);
        using var optimizer = new Optimizer(dev, new OptimizerSpec(), model.Layout.Count);
        using var data = new DeviceDataSet(dev, Enumerable.Repeat(0.5f, 32 * 8).ToArray(), 32, 8);
        using var trainer = new Trainer(model, optimizer, ObjectiveSpec.Preset("vae", 2), 8, seed: 1, binarize: false);
        var e = Assert.Throws<NumericalFaultException>(() => trainer.TrainEpoch(data));
        // The terms are read a step late, so the fault is noticed during step 2 and named as step 1's.
        Assert.Contains("epoch 1, step 1:", e.Message);
        Assert.Contains("recon is not finite", e.Message);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ANonFiniteGradientStopsTrainingWithItsCount(string device)
    {
        var dev = TestDevices.Get(device);
        using var model = new VaeModel(dev, new ModelSpec(8, [4], 2, [4]), 8);
        model.Initialize(1);
        using var optimizer = new Optimizer(dev, new OptimizerSpec(), model.Layout.Count);
        // Pixels outside [0, 1] are refused by the data loaders; here a NaN pixel makes every gradient of its row NaN.
        var pixels = Enumerable.Repeat(0.5f, 32 * 8).ToArray();
        pixels[3] = float.PositiveInfinity;
        using var data = new DeviceDataSet(dev, pixels, 32, 8);
        using var trainer = new Trainer(model, optimizer, ObjectiveSpec.Preset("vae", 2), 8, seed: 1, binarize: false);
        var e = Assert.Throws<NumericalFaultException>(() => trainer.TrainEpoch(data));
        Assert.Contains("epoch 1, step", e.Message);
        Assert.Contains("not finite", e.Message);
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
