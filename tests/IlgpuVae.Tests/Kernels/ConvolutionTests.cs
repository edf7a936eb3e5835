using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using static IlgpuVae.Tests.Infrastructure.ImageLayouts;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// Conv2d and ConvTranspose2d — the column gathers and the products behind them — against direct double-precision
/// convolutions written from PyTorch's definitions (NCHW, weight [Co, Ci, K, K] and [Ci, Co, K, K]), forward and
/// backward, on every accelerator and with the GPU kernels on the CPU; and the backward by finite differences of
/// the forward. The cases cover odd and non-square sizes, kernels 2–4, strides 1 and 2, padding 0 and 1, output
/// padding, one and three channels, NCHW and NHWC image sides, and more column rows than one tile holds.
/// </summary>
public sealed class ConvolutionTests
{
    public sealed record Case(int Batch, ImageShape Input, int OutChannels, int Kernel, int Stride, int Padding, bool InputChannelsLast)
    {
        internal ConvLayerSpec Layer => new(OutChannels, Kernel, Stride, Padding);
        public ImageShape Output => new ConvSpec(Input, [Layer]).Shapes()[0];
        public override string ToString() => $"{Batch}×{Input}→{OutChannels} k{Kernel}s{Stride}p{Padding}{(InputChannelsLast ? " nhwc" : "")}";
    }

    static readonly Case[] Cases =
    [
        new(2, new(1, 7, 7), 3, 3, 2, 1, true),
        new(3, new(3, 5, 7), 4, 4, 2, 1, false),
        new(2, new(2, 8, 6), 3, 2, 1, 0, true),
        new(1, new(3, 9, 9), 2, 3, 1, 1, false),
        new(2, new(4, 10, 7), 5, 3, 2, 0, true),
        new(5, new(2, 12, 12), 6, 4, 2, 1, true),
    ];

    public static TheoryData<string, int> DeviceCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int c = 0; c < Cases.Length; c++) data.Add(device, c);
        return data;
    }

    // ---- references in double, NCHW ---------------------------------------------------------------------------

    static double[] ConvReference(Case c, double[] x, double[] w, double[] bias)
    {
        var (i, o, k) = (c.Input, c.Output, c.Kernel);
        var y = new double[c.Batch * o.Size];
        for (int b = 0; b < c.Batch; b++)
            for (int co = 0; co < o.Channels; co++)
                for (int oy = 0; oy < o.Height; oy++)
                    for (int ox = 0; ox < o.Width; ox++)
                    {
                        double sum = bias[co];
                        for (int ci = 0; ci < i.Channels; ci++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = oy * c.Stride + ky - c.Padding, ix = ox * c.Stride + kx - c.Padding;
                                    if (iy < 0 || iy >= i.Height || ix < 0 || ix >= i.Width) continue;
                                    sum += x[((b * i.Channels + ci) * i.Height + iy) * i.Width + ix] * w[((co * i.Channels + ci) * k + ky) * k + kx];
                                }
                        y[((b * o.Channels + co) * o.Height + oy) * o.Width + ox] = sum;
                    }
        return y;
    }

    /// <summary>dX, dW, db of the conv from dY (all NCHW, W as PyTorch's).</summary>
    static (double[] Dx, double[] Dw, double[] Db) ConvBackwardReference(Case c, double[] x, double[] w, double[] dy)
    {
        var (i, o, k) = (c.Input, c.Output, c.Kernel);
        var (dx, dw, db) = (new double[x.Length], new double[w.Length], new double[o.Channels]);
        for (int b = 0; b < c.Batch; b++)
            for (int co = 0; co < o.Channels; co++)
                for (int oy = 0; oy < o.Height; oy++)
                    for (int ox = 0; ox < o.Width; ox++)
                    {
                        double g = dy[((b * o.Channels + co) * o.Height + oy) * o.Width + ox];
                        db[co] += g;
                        for (int ci = 0; ci < i.Channels; ci++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = oy * c.Stride + ky - c.Padding, ix = ox * c.Stride + kx - c.Padding;
                                    if (iy < 0 || iy >= i.Height || ix < 0 || ix >= i.Width) continue;
                                    int xi = ((b * i.Channels + ci) * i.Height + iy) * i.Width + ix, wi = ((co * i.Channels + ci) * k + ky) * k + kx;
                                    dx[xi] += g * w[wi];
                                    dw[wi] += g * x[xi];
                                }
                    }
        return (dx, dw, db);
    }

    // ---- layouts -----------------------------------------------------------------------------------------------

    /// <summary>A weight [A, B, K, K] kept as [A, K, K, B] (conv: A = Co, B = Ci; transposed conv: A = Ci, B = Co).</summary>
    static float[] Kept(double[] w, int a, int bDim, int k)
    {
        var r = new float[w.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < bDim; j++)
                for (int t = 0; t < k * k; t++)
                    r[(i * k * k + t) * bDim + j] = (float)w[(i * bDim + j) * k * k + t];
        return r;
    }

    static double[] FromKept(float[] w, int a, int bDim, int k)
    {
        var r = new double[w.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < bDim; j++)
                for (int t = 0; t < k * k; t++)
                    r[(i * bDim + j) * k * k + t] = w[(i * k * k + t) * bDim + j];
        return r;
    }

    /// <summary>Parameters [weight | bias] in one buffer and a layer over them, with room for its scratch.</summary>
    sealed class Rig(DeviceArrays d, Layer layer, float[] weight, float[] bias, int batch)
    {
        public ArrayView<float> Parameters { get; } = d.Upload([.. weight, .. bias]);
        public ArrayView<float> Gradients { get; } = d.Floats(weight.Length + bias.Length);
        readonly ArrayView<float> kept = d.Floats(layer.KeptFloats(batch)), workspace = d.Floats(layer.WorkspaceFloats(batch));
        public LayerBuffers Buffers => new(d.Device.Kernels, Parameters, Gradients, kept, workspace);
        public float[] WeightGradient => DeviceArrays.Download(Gradients).AsSpan(0, weight.Length).ToArray();
        public float[] BiasGradient => DeviceArrays.Download(Gradients).AsSpan(weight.Length).ToArray();
    }

    [DeviceTheory]
    [MemberData(nameof(DeviceCases))]
    public void Conv2dForwardAndBackwardMatchTheReference(string device, int index)
    {
        var c = Cases[index];
        var (i, o, k) = (c.Input, c.Output, c.Kernel);
        var random = new Random(index + 1);
        double[] x = TestData.ToDouble(TestData.Uniform(random, c.Batch * i.Size)), w = TestData.ToDouble(TestData.Uniform(random, o.Channels * i.Channels * k * k));
        double[] bias = TestData.ToDouble(TestData.Uniform(random, o.Channels)), dy = TestData.ToDouble(TestData.Uniform(random, c.Batch * o.Size));
        using var d = new DeviceArrays(TestDevices.Get(device));
        var layer = new Conv2dLayer(i, o, c.Layer, Activation.Identity, c.InputChannelsLast, 0, w.Length);
        var rig = new Rig(d, layer, Kept(w, o.Channels, i.Channels, k), bias.Select(v => (float)v).ToArray(), c.Batch);
        var (xv, y, dx) = (d.Upload(ToLayout(x, c.Batch, i, c.InputChannelsLast)), d.Floats(c.Batch * o.Size), d.Floats(c.Batch * i.Size));
        layer.Forward(rig.Buffers, c.Batch, xv, y);
        Tolerance.AssertClose(DeviceArrays.Download(y), ToLayout(ConvReference(c, x, w, bias), c.Batch, o, true).Select(v => (double)v).ToArray(), 1e-5, $"{c} y");

        layer.Backward(rig.Buffers, c.Batch, xv, d.Upload(ToLayout(dy, c.Batch, o, true)), Activation.Identity, dx);
        var (wantDx, wantDw, wantDb) = ConvBackwardReference(c, x, w, dy);
        Tolerance.AssertClose(FromLayout(DeviceArrays.Download(dx), c.Batch, i, c.InputChannelsLast).Select(v => (float)v).ToArray(), wantDx, 1e-5, $"{c} dx");
        Tolerance.AssertClose(FromKept(rig.WeightGradient, o.Channels, i.Channels, k).Select(v => (float)v).ToArray(), wantDw, 1e-5, $"{c} dW");
        Tolerance.AssertClose(rig.BiasGradient, wantDb, 1e-5, $"{c} db");
    }

    /// <summary>
    /// ConvTranspose2d is the adjoint of Conv2d: with the transposed conv mirroring case c (its input the conv's
    /// output), its forward is the conv's input gradient, and its input gradient the conv's forward.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceCases))]
    public void ConvTranspose2dIsTheAdjointOfConv2d(string device, int index)
    {
        var c = Cases[index];
        var (i, o, k) = (c.Input, c.Output, c.Kernel);
        var random = new Random(index + 11);
        // The transposed conv: from o back to i; its weight [Ci' = o.C, Co' = i.C, K, K] is the conv's W [o.C, i.C, K, K].
        double[] w = TestData.ToDouble(TestData.Uniform(random, o.Channels * i.Channels * k * k)), bias = new double[i.Channels];
        double[] t = TestData.ToDouble(TestData.Uniform(random, c.Batch * o.Size)), dy = TestData.ToDouble(TestData.Uniform(random, c.Batch * i.Size));
        using var d = new DeviceArrays(TestDevices.Get(device));
        var layer = new ConvTranspose2dLayer(o, i, c.Layer, Activation.Identity, c.InputChannelsLast, 0, w.Length);
        var rig = new Rig(d, layer, Kept(w, o.Channels, i.Channels, k), new float[i.Channels], c.Batch);
        var (tv, y, dt) = (d.Upload(ToLayout(t, c.Batch, o, true)), d.Floats(c.Batch * i.Size), d.Floats(c.Batch * o.Size));
        layer.Forward(rig.Buffers, c.Batch, tv, y);
        var (convInputGradient, _, _) = ConvBackwardReference(c, new double[c.Batch * i.Size], w, t);
        Tolerance.AssertClose(FromLayout(DeviceArrays.Download(y), c.Batch, i, c.InputChannelsLast).Select(v => (float)v).ToArray(), convInputGradient, 1e-5, $"{c} y");

        layer.Backward(rig.Buffers, c.Batch, tv, d.Upload(ToLayout(dy, c.Batch, i, c.InputChannelsLast)), Activation.Identity, dt);
        // ∂/∂t of Σ dy ⊙ convT(t) is conv(dy); ∂/∂W is the conv's weight gradient with the roles of x and dY swapped.
        var convOfDy = ConvReference(c, dy, w, new double[o.Channels]);
        Tolerance.AssertClose(FromLayout(DeviceArrays.Download(dt), c.Batch, o, true).Select(v => (float)v).ToArray(), convOfDy, 1e-5, $"{c} dt");
        var (_, wantDw, _) = ConvBackwardReference(c, dy, w, t);
        Tolerance.AssertClose(FromKept(rig.WeightGradient, o.Channels, i.Channels, k).Select(v => (float)v).ToArray(), wantDw, 1e-5, $"{c} dW");
        var wantDb = new double[i.Channels];
        for (int b = 0; b < c.Batch; b++)
            for (int ch = 0; ch < i.Channels; ch++)
                for (int p = 0; p < i.Pixels; p++) wantDb[ch] += dy[(b * i.Channels + ch) * i.Pixels + p];
        Tolerance.AssertClose(rig.BiasGradient, wantDb, 1e-5, $"{c} db");
    }

    /// <summary>
    /// A conv (tanh) into a transposed conv back to the input's shape, L = Σ r ⊙ output: the backward kernels'
    /// directional derivative for the weights, biases and input against central differences of the forward kernels.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DevicesOnly))]
    public void BackwardMatchesFiniteDifferencesOfForward(string device)
    {
        var c = new Case(2, new(2, 7, 6), 3, 3, 2, 1, false);
        var (i, o, k) = (c.Input, c.Output, c.Kernel);
        var random = new Random(21);
        int convWeights = o.Channels * i.Channels * k * k;
        var theta = TestData.Uniform(random, 2 * convWeights + o.Channels + i.Channels);
        var x = TestData.Uniform(random, c.Batch * i.Size);
        var r = TestData.Uniform(random, c.Batch * i.Size);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var conv = new Conv2dLayer(i, o, c.Layer, Activation.Tanh, false, 0, convWeights);
        var deconv = new ConvTranspose2dLayer(o, i, c.Layer, Activation.Identity, false, convWeights + o.Channels, 2 * convWeights + o.Channels);
        var gradients = d.Floats(theta.Length);
        var (keptConv, work) = (d.Floats(conv.KeptFloats(c.Batch)), d.Floats(Math.Max(conv.WorkspaceFloats(c.Batch), deconv.WorkspaceFloats(c.Batch))));
        var (h, y) = (d.Floats(c.Batch * o.Size), d.Floats(c.Batch * i.Size));
        double Loss(float[] parameters, float[] input, out ArrayView<float> p, out ArrayView<float> xv)
        {
            p = d.Upload(parameters);
            xv = d.Upload(input);
            conv.Forward(new(d.Device.Kernels, p, gradients, keptConv, work), c.Batch, xv, h);
            deconv.Forward(new(d.Device.Kernels, p, gradients, default, work), c.Batch, h, y);
            return DeviceArrays.Download(y).Zip(r, (a, b) => (double)a * b).Sum();
        }
        Loss(theta, x, out var pv, out var xView);
        var (dh, dx) = (d.Floats(c.Batch * o.Size), d.Floats(c.Batch * i.Size));
        deconv.Backward(new(d.Device.Kernels, pv, gradients, default, work), c.Batch, h, d.Upload(r), Activation.Tanh, dh);
        conv.Backward(new(d.Device.Kernels, pv, gradients, keptConv, work), c.Batch, xView, dh, Activation.Identity, dx);
        var (vt, vx) = (TestData.Normal(random, theta.Length), TestData.Normal(random, x.Length));
        double analytic = Dot(DeviceArrays.Download(gradients), vt) + Dot(DeviceArrays.Download(dx), vx);
        const float step = 2e-3f;
        float[] Shift(float[] a, float[] v, float s) => a.Select((value, j) => value + s * v[j]).ToArray();
        double numeric = (Loss(Shift(theta, vt, step), Shift(x, vx, step), out _, out _) - Loss(Shift(theta, vt, -step), Shift(x, vx, -step), out _, out _)) / (2 * step);
        Tolerance.AssertNear(numeric, analytic, 1e-2, 1e-3, "directional derivative");
    }

    static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    public static TheoryData<string> DevicesOnly => TestDevices.AllWithGpuShapes;
}
