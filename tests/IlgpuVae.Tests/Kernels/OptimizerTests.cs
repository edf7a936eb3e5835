using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Kernels;

/// <summary>Three steps of Adam, AdamW and SGD with momentum against PyTorch's update rules in double.</summary>
public sealed class OptimizerTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (var kind in Enum.GetValues<OptimizerKind>())
                data.Add(device, kind.ToString());
        return data;
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ThreeStepsMatchPyTorchsRules(string device, string kindName)
    {
        var kind = Enum.Parse<OptimizerKind>(kindName);
        const int n = 37;
        var random = new Random((int)kind + 1);
        var spec = new OptimizerSpec(kind, LearningRate: 0.05, WeightDecay: 0.1);
        var theta = TestData.Uniform(random, n);
        var grads = Enumerable.Range(0, 3).Select(_ => TestData.Uniform(random, n)).ToArray();

        using var d = new DeviceArrays(TestDevices.Get(device));
        using var optimizer = new Optimizer(d.Device, spec, n);
        var parameters = d.Upload(theta);
        var faults = d.Upload(new int[1]);
        foreach (var g in grads) optimizer.Update(parameters, d.Upload(g), faults);

        var want = TestData.ToDouble(theta);
        var (m, v) = (new double[n], new double[n]);
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < n; i++)
            {
                double g = grads[t - 1][i], wd = spec.EffectiveWeightDecay, lr = spec.LearningRate;
                if (kind == OptimizerKind.Sgd)
                {
                    g += wd * want[i];
                    m[i] = spec.Momentum * m[i] + g;
                    want[i] -= lr * m[i];
                    continue;
                }
                if (kind == OptimizerKind.AdamW) want[i] *= 1 - lr * wd;
                else g += wd * want[i];
                m[i] = spec.Beta1 * m[i] + (1 - spec.Beta1) * g;
                v[i] = spec.Beta2 * v[i] + (1 - spec.Beta2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(spec.Beta1, t)), vHat = v[i] / (1 - Math.Pow(spec.Beta2, t));
                want[i] -= lr * mHat / (Math.Sqrt(vHat) + spec.Epsilon);
            }
        Tolerance.AssertClose(DeviceArrays.Download(parameters), want, 1e-5, $"{kind}");
        Assert.Equal(3, optimizer.Steps);
    }

    /// <summary>
    /// The CPU accelerator's vector Adam (<c>Optimizers.AdamCpu</c>: vectors, then a scalar tail) and the GPU kernel
    /// (<c>Optimizers.AdamGpu</c>, here on the CPU accelerator) share one element update, so they give the same bits,
    /// for large and tiny gradients, and count the same non-finite ones.
    /// </summary>
    [Theory]
    [InlineData("Adam")]
    [InlineData("AdamW")]
    public void VectorAndScalarAdamGiveTheSameBits(string kindName)
    {
        var kind = Enum.Parse<OptimizerKind>(kindName);
        const int n = 4099; // several runs of a CPU launch, the last ending in a scalar tail
        var random = new Random(11);
        float Value() => (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-8, 4)));
        var theta = Enumerable.Range(0, n).Select(_ => Value()).ToArray();
        var grads = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, n).Select(_ => Value()).ToArray()).ToArray();
        grads[1][5] = float.NaN;
        grads[2][n - 2] = float.PositiveInfinity;
        var spec = new OptimizerSpec(kind, LearningRate: 0.01, WeightDecay: 0.1);

        (float[] Parameters, int Faults) Run(string device)
        {
            using var d = new DeviceArrays(TestDevices.Get(device));
            using var optimizer = new Optimizer(d.Device, spec, n);
            var parameters = d.Upload(theta);
            var faults = d.Upload(new int[1]);
            foreach (var g in grads) optimizer.Update(parameters, d.Upload(g), faults);
            return (DeviceArrays.Download(parameters), DeviceArrays.Download(faults)[0]);
        }

        var (vector, vectorFaults) = Run(TestDevices.Cpu);
        var (scalar, scalarFaults) = Run(TestDevices.PortableCpu);
        Assert.Equal(2, vectorFaults);
        Assert.Equal(scalarFaults, vectorFaults);
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(vector[i]) == BitConverter.SingleToInt32Bits(scalar[i]) || float.IsNaN(vector[i]) && float.IsNaN(scalar[i]),
                $"parameter {i}: {vector[i]:R} from the vector code, {scalar[i]:R} from the scalar kernel");
    }

    [Fact]
    public void InvalidSettingsAreRefused()
    {
        Assert.Contains("learning rate must be positive", Assert.Throws<ArgumentException>(() => new OptimizerSpec(LearningRate: 0).Validate()).Message);
        Assert.Contains("betas", Assert.Throws<ArgumentException>(() => new OptimizerSpec(Beta1: 1).Validate()).Message);
        Assert.Throws<ArgumentException>(() => OptimizerSpec.ParseKind("lbfgs"));
    }
}
