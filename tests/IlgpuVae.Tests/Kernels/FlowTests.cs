using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The element-wise inverse-autoregressive-flow step (<see cref="IlgpuVae.Kernels.Flows"/>) against a double
/// reference, forward and backward, for a middle and a last step; the backward by finite differences of the
/// forward's output and KL share; and one inversion pass undoing a step whose [m | s] is fixed.
/// </summary>
public sealed class FlowTests
{
    const int B = 5, K = 3;

    static double Sigmoid(double s) => Reference.Sigmoid(s);

    [DeviceTheory]
    [MemberData(nameof(DevicesAndLast))]
    public void StepMatchesTheReference(string device, bool last)
    {
        var random = new Random(last ? 2 : 1);
        float[] z = TestData.Normal(random, B * K), ms = TestData.Normal(random, 2 * B * K), dNext = TestData.Normal(random, B * K);
        var kl0 = TestData.Normal(random, B * K).Select(v => (double)v).ToArray();
        const float w = 0.3f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (next, kl, dMs, dz) = (d.Floats(B * K), d.Upload(kl0), d.Floats(2 * B * K), d.Floats(B * K));
        var (zv, msv) = (d.Upload(z), d.Upload(ms));
        k.FlowStep(B, K, last, zv, msv, next, kl);
        k.FlowStepBackward(B, K, last, w, zv, msv, next, d.Upload(dNext), dMs, dz);

        var (wantNext, wantKl, wantDz, wantDms) = (new double[B * K], new double[B * K], new double[B * K], new double[2 * B * K]);
        for (int i = 0; i < B * K; i++)
        {
            int m = i / K * 2 * K + i % K, s = m + K;
            double sigma = Sigmoid(ms[s]), value = sigma * z[i] + (1 - sigma) * ms[m];
            wantNext[i] = value;
            wantKl[i] = kl0[i] + Reference.Softplus(-ms[s]) + (last ? 0.5 * value * value : 0);
            double g = dNext[i] + (last ? w * value : 0);
            wantDz[i] = g * sigma;
            wantDms[m] = g * (1 - sigma);
            wantDms[s] = g * (z[i] - ms[m]) * sigma * (1 - sigma) - w * (1 - sigma);
        }
        Tolerance.AssertClose(DeviceArrays.Download(next), wantNext, 1e-6, "z_{t+1}");
        var gotKl = DeviceArrays.Download(kl);
        for (int i = 0; i < gotKl.Length; i++) Tolerance.AssertNear(gotKl[i], wantKl[i], 1e-6, 1e-6, $"kl[{i}]");
        Tolerance.AssertClose(DeviceArrays.Download(dz), wantDz, 1e-6, "dz");
        Tolerance.AssertClose(DeviceArrays.Download(dMs), wantDms, 1e-6, "d[m|s]");
    }

    /// <summary>L = Σ r ⊙ z_{t+1} + w·(the step's KL share): the backward's dz and d[m | s] against central differences.</summary>
    [DeviceTheory]
    [MemberData(nameof(DevicesAndLast))]
    public void StepBackwardMatchesFiniteDifferences(string device, bool last)
    {
        var random = new Random(7);
        float[] z = TestData.Normal(random, B * K), ms = TestData.Normal(random, 2 * B * K), r = TestData.Normal(random, B * K);
        const float w = 0.7f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var next = d.Floats(B * K);

        double Loss(float[] zs, float[] mss)
        {
            var kl = d.Doubles(B * K);
            k.FlowStep(B, K, last, d.Upload(zs), d.Upload(mss), next, kl);
            return DeviceArrays.Download(next).Zip(r, (p, q) => (double)p * q).Sum() + w * DeviceArrays.Download(kl).Sum();
        }

        Loss(z, ms);
        var (dMs, dz) = (d.Floats(2 * B * K), d.Floats(B * K));
        k.FlowStepBackward(B, K, last, w, d.Upload(z), d.Upload(ms), next, d.Upload(r), dMs, dz);
        var (vz, vms) = (TestData.Normal(random, z.Length), TestData.Normal(random, ms.Length));
        double analytic = DeviceArrays.Download(dz).Zip(vz, (p, q) => (double)p * q).Sum() + DeviceArrays.Download(dMs).Zip(vms, (p, q) => (double)p * q).Sum();
        const float step = 1e-3f;
        float[] Shift(float[] a, float[] v, float s) => a.Select((t, i) => t + s * v[i]).ToArray();
        double numeric = (Loss(Shift(z, vz, step), Shift(ms, vms, step)) - Loss(Shift(z, vz, -step), Shift(ms, vms, -step))) / (2 * step);
        Tolerance.AssertNear(numeric, analytic, 1e-2, 1e-3, "directional derivative");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void AnInversionPassUndoesAStepWithTheSameMAndS(string device)
    {
        var random = new Random(4);
        float[] z = TestData.Normal(random, B * K), ms = TestData.Normal(random, 2 * B * K);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (next, back, msv) = (d.Floats(B * K), d.Floats(B * K), d.Upload(ms));
        k.FlowStep(B, K, false, d.Upload(z), msv, next, d.Doubles(B * K));
        k.InversionPass(B, K, next, msv, back);
        Tolerance.AssertClose(DeviceArrays.Download(back), z.Select(v => (double)v).ToArray(), 1e-5, "z_t");
    }

    public static TheoryData<string, bool> DevicesAndLast()
    {
        var data = new TheoryData<string, bool>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (bool last in new[] { false, true }) data.Add(device, last);
        return data;
    }

    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;
}
