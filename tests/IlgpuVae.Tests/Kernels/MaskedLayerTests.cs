using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// Masked layers y = act((W ⊙ M)·x + V·c + b) — the two products of the forward and the two pairs of the backward —
/// against double-precision references, with MADE masks, on every accelerator and with the GPU kernels on the CPU;
/// the input and context gradients written and added; and the backward by finite differences of the forward.
/// Shapes cross the vector kernels' tiles and the small GPU tiles, with contexts narrower and wider than the input.
/// </summary>
public sealed class MaskedLayerTests
{
    static readonly (int B, int In, int Out, int C)[] Shapes = [(3, 5, 7, 2), (9, 12, 10, 13), (17, 6, 24, 4), (5, 33, 9, 20)];

    public static TheoryData<string, int, Activation> Cases()
    {
        var data = new TheoryData<string, int, Activation>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = 0; s < Shapes.Length; s++)
                foreach (var a in new[] { Activation.Relu, Activation.Tanh, Activation.Softplus })
                    data.Add(device, s, a);
        return data;
    }

    /// <summary>A hidden MADE mask [out, in] over inputs of degrees 1…in.</summary>
    static float[] Mask(int inputs, int outputs) =>
        Made.Mask(Made.HiddenDegrees([outputs], Math.Max(2, inputs), MadeDegrees.Spread)[0], Made.InputDegrees(inputs, reversed: false), output: false);

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackwardMatchTheReference(string device, int shape, Activation activation)
    {
        var (b, n, o, c) = Shapes[shape];
        var random = new Random(shape * 31 + (int)activation);
        var mask = Mask(n, o);
        float[] x = TestData.Uniform(random, b * n), w = TestData.Uniform(random, o * n).Select((v, i) => v * mask[i]).ToArray();
        float[] ctx = TestData.Uniform(random, b * c), v = TestData.Uniform(random, o * c), bias = TestData.Uniform(random, o);
        float[] dPre = TestData.Uniform(random, b * o), previousDx = TestData.Uniform(random, b * n), previousDc = TestData.Uniform(random, b * c);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (y, sum) = (d.Floats(b * o), d.Floats(b * o));
        var (xv, wv, cv, vv) = (d.Upload(x), d.Upload(w), d.Upload(ctx), d.Upload(v));
        k.MaskedForward(b, n, o, c, activation, xv, wv, cv, vv, d.Upload(bias), sum, y);

        var pre = new double[b * o];
        for (int r = 0; r < b; r++)
            for (int u = 0; u < o; u++)
            {
                double s = bias[u];
                for (int i = 0; i < n; i++) s += (double)w[u * n + i] * x[r * n + i];
                for (int j = 0; j < c; j++) s += (double)v[u * c + j] * ctx[r * c + j];
                pre[r * o + u] = s;
            }
        Tolerance.AssertClose(DeviceArrays.Download(y), pre.Select(p => Reference.Act(p, activation)).ToArray(), 1e-5, "y");

        // Backward twice: writing the input and context gradients, then adding them to what the buffers hold.
        foreach (bool accumulate in new[] { false, true })
        {
            var (dw, db, dv) = (d.Floats(o * n), d.Floats(o), d.Floats(o * c));
            var dx = d.Upload(accumulate ? previousDx : new float[b * n]);
            var dc = d.Upload(accumulate ? previousDc : new float[b * c]);
            // x as a previous tanh layer's output, so the input gradient carries tanh's derivative.
            k.MaskedBackward(b, n, o, c, Activation.Tanh, accumulate, accumulate, d.Upload(dPre), xv, wv, d.Upload(mask), cv, vv, dw, db, dx, dv, dc);
            var wantDw = new double[o * n];
            var wantDv = new double[o * c];
            var wantDb = new double[o];
            var wantDx = new double[b * n];
            var wantDc = new double[b * c];
            for (int r = 0; r < b; r++)
                for (int u = 0; u < o; u++)
                {
                    double g = dPre[r * o + u];
                    wantDb[u] += g;
                    for (int i = 0; i < n; i++)
                    {
                        wantDw[u * n + i] += mask[u * n + i] * g * x[r * n + i];
                        wantDx[r * n + i] += g * w[u * n + i];
                    }
                    for (int j = 0; j < c; j++)
                    {
                        wantDv[u * c + j] += g * ctx[r * c + j];
                        wantDc[r * c + j] += g * v[u * c + j];
                    }
                }
            for (int e = 0; e < b * n; e++)
                wantDx[e] = ((accumulate ? previousDx[e] : 0) + wantDx[e]) * (1 - (double)x[e] * x[e]);
            for (int e = 0; e < b * c; e++) wantDc[e] += accumulate ? previousDc[e] : 0;
            string what = accumulate ? " (added)" : "";
            Tolerance.AssertClose(DeviceArrays.Download(dw), wantDw, 1e-5, "dW" + what);
            Assert.All(DeviceArrays.Download(dw).Where((g, i) => mask[i] == 0), g => Assert.Equal(0f, g));
            Tolerance.AssertClose(DeviceArrays.Download(db), wantDb, 1e-5, "db" + what);
            Tolerance.AssertClose(DeviceArrays.Download(dv), wantDv, 1e-5, "dV" + what);
            Tolerance.AssertClose(DeviceArrays.Download(dx), wantDx, 1e-5, "dx" + what);
            Tolerance.AssertClose(DeviceArrays.Download(dc), wantDc, 1e-5, "dc" + what);
        }
    }

    /// <summary>L = Σ r ⊙ y of one tanh masked layer: the backward's gradients for x, c, W, V and b, dotted with a random direction (W's masked), against central differences.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BackwardMatchesFiniteDifferencesOfForward(string device)
    {
        var random = new Random(9);
        const int b = 6, n = 7, o = 9, c = 3;
        var mask = Mask(n, o);
        float[] x = TestData.Uniform(random, b * n), w = TestData.Uniform(random, o * n).Select((v, i) => v * mask[i]).ToArray();
        float[] ctx = TestData.Uniform(random, b * c), v = TestData.Uniform(random, o * c), bias = TestData.Uniform(random, o), r = TestData.Uniform(random, b * o);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (y, sum) = (d.Floats(b * o), d.Floats(b * o));

        double Loss(float[] xs, float[] cs, float[] ws, float[] vs, float[] bs)
        {
            k.MaskedForward(b, n, o, c, Activation.Tanh, d.Upload(xs), d.Upload(ws), d.Upload(cs), d.Upload(vs), d.Upload(bs), sum, y);
            return DeviceArrays.Download(y).Zip(r, (p, q) => (double)p * q).Sum();
        }

        Loss(x, ctx, w, v, bias);
        var yHost = DeviceArrays.Download(y);
        var dPre = r.Select((g, i) => (float)(g * (1 - (double)yHost[i] * yHost[i]))).ToArray();
        var (dx, dc, dw, dv, db) = (d.Floats(b * n), d.Floats(b * c), d.Floats(o * n), d.Floats(o * c), d.Floats(o));
        k.MaskedBackward(b, n, o, c, Activation.Identity, false, false, d.Upload(dPre), d.Upload(x), d.Upload(w), d.Upload(mask),
            d.Upload(ctx), d.Upload(v), dw, db, dx, dv, dc);

        var dir = new[] { x.Length, ctx.Length, w.Length, v.Length, bias.Length }.Select(len => TestData.Normal(random, len)).ToArray();
        for (int i = 0; i < w.Length; i++) dir[2][i] *= mask[i];
        var grads = new[] { dx, dc, dw, dv, db }.Select(g => DeviceArrays.Download(g)).ToArray();
        double analytic = grads.Zip(dir, (g, u) => g.Zip(u, (p, q) => (double)p * q).Sum()).Sum();
        const float step = 2e-3f;
        float[] Shift(float[] a, float[] u, float s) => a.Select((t, i) => t + s * u[i]).ToArray();
        double Shifted(float s) => Loss(Shift(x, dir[0], s), Shift(ctx, dir[1], s), Shift(w, dir[2], s), Shift(v, dir[3], s), Shift(bias, dir[4], s));
        Tolerance.AssertNear((Shifted(step) - Shifted(-step)) / (2 * step), analytic, 1e-2, 1e-3, "directional derivative");
    }

    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;
}
