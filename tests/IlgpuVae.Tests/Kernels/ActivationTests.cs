using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The activation device functions against double math — on the device, through the dense kernel with W = I
/// and b = 0 — including the far tails, where a naive softplus or sigmoid overflows.
/// </summary>
public sealed class ActivationTests
{
    static readonly float[] Inputs = [-1000f, -100f, -88.7f, -20f, -1.5f, -1e-3f, 0f, 1e-3f, 0.7f, 3f, 20f, 88.7f, 100f, 1000f];

    public static TheoryData<string, Activation> Cases()
    {
        var data = new TheoryData<string, Activation>();
        foreach (var device in TestDevices.Names)
            foreach (var a in Enum.GetValues<Activation>())
                data.Add(device, a);
        return data;
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ForwardOnTheDeviceMatchesDoubleMathAtEveryScale(string device, Activation activation)
    {
        int n = Inputs.Length;
        var identity = new float[n * n];
        for (int i = 0; i < n; i++) identity[i * n + i] = 1f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var y = d.Floats(n);
        d.Device.Kernels.DenseForward(1, n, n, activation, d.Upload(Inputs), d.Upload(identity), d.Floats(n), y);
        var got = DeviceArrays.Download(y);
        for (int i = 0; i < n; i++)
        {
            double want = Reference.Act(Inputs[i], activation);
            Assert.True(float.IsFinite(got[i]), $"{activation}({Inputs[i]}) = {got[i]}");
            Tolerance.AssertNear(got[i], want, 1e-6, 1e-7, $"{activation}({Inputs[i]})");
        }
    }

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Softplus)]
    public void DerivativeFromTheOutputMatchesTheDerivativeAtTheInput(Activation activation)
    {
        foreach (float x in Inputs)
        {
            if (x == 0f) continue; // ReLU's kink
            float y = Activations.Forward(x, (int)activation);
            float got = Activations.Derivative(y, (int)activation);
            Assert.True(float.IsFinite(got));
            Tolerance.AssertNear(got, Reference.ActGrad(x, activation), 1e-5, 1e-6, $"{activation}'({x})");
        }
    }

    [Fact]
    public void SigmoidAndSoftplusAreStableInTheTails()
    {
        foreach (float x in Inputs)
        {
            Tolerance.AssertNear(Activations.Sigmoid(x), Reference.Sigmoid(x), 1e-6, 1e-30, $"σ({x})");
            Tolerance.AssertNear(Activations.Softplus(x), Reference.Softplus(x), 1e-6, 1e-30, $"softplus({x})");
        }
    }
}
