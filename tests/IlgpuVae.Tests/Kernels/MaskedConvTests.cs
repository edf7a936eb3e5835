using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using static IlgpuVae.Tests.Infrastructure.ImageLayouts;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The PixelCNN's masked conditional conv (<see cref="MaskedConv2dLayer"/>) against a direct double-precision masked
/// convolution with its per-image context term (<see cref="MaskedConvShape"/>), forward and backward — the weight,
/// context weight, bias, input and context gradients, the context's written and added, every masked entry of the
/// weight's gradient exactly +0 — and by finite differences of the forward, on every accelerator and GPU launch
/// shape. Cases: grey and colour, types A and B, kernels 1, 3 and 5, odd and non-square images, NCHW inputs (the
/// data) and NHWC ones, NHWC outputs and the NCHW output of a last layer.
/// </summary>
public sealed class MaskedConvTests
{
    public sealed record Case(int Batch, ImageShape Input, int Out, int Kernel, int Colours, bool TypeA, bool InputChannelsLast,
        bool OutputChannelsLast, Activation Activation, Activation InputActivation)
    {
        internal MaskedConvShape Shape => new(Batch, Input, Out, Kernel, Latent: 3);
        internal float[] FileMask => Shape.File(PixelCnn.Mask(Kernel, Input.Channels, Out, Colours, TypeA)).Select(m => (float)m).ToArray();
    }

    static readonly Case[] Cases =
    [
        new(2, new(1, 5, 7), 3, 5, 1, true, false, true, Activation.Tanh, Activation.Identity),
        new(2, new(3, 5, 7), 4, 3, 3, true, false, true, Activation.Relu, Activation.Identity),
        new(1, new(3, 4, 6), 6, 5, 3, true, false, true, Activation.Tanh, Activation.Identity),
        new(2, new(4, 5, 7), 4, 5, 3, false, true, true, Activation.Softplus, Activation.Tanh),
        new(3, new(3, 6, 5), 2, 3, 1, false, true, true, Activation.Tanh, Activation.Relu),
        new(2, new(5, 4, 3), 3, 1, 3, false, true, false, Activation.Identity, Activation.Tanh),
        new(2, new(3, 5, 7), 1, 1, 1, false, true, false, Activation.Identity, Activation.LeakyRelu),
        new(2, new(4, 3, 5), 3, 3, 3, false, true, false, Activation.Identity, Activation.Tanh),
    ];

    public static TheoryData<string, int> DeviceCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int c = 0; c < Cases.Length; c++) data.Add(device, c);
        return data;
    }

    /// <summary>One layer with its parameters [W kept | V | b], their gradients and masks, its scratch, and z and dz.</summary>
    sealed class Rig
    {
        readonly DeviceArrays d;
        readonly Case c;
        readonly ArrayView<float> masks, kept, workspace;

        public Rig(DeviceArrays d, Case c, double[] fileWeight, float[] v, float[] bias, float[] z)
        {
            (this.d, this.c) = (d, c);
            var s = c.Shape;
            int w = s.WeightLength, cond = c.Out * s.Latent;
            Layer = new MaskedConv2dLayer(c.Input, c.Out, c.Kernel, s.Latent, c.Activation, c.InputChannelsLast, c.OutputChannelsLast, 0, w, w + cond);
            Parameters = d.Upload([.. s.Kept(fileWeight), .. v, .. bias]);
            Gradients = d.Upload(Enumerable.Repeat(float.NaN, w + cond + c.Out).ToArray());
            masks = d.Upload([.. PixelCnn.Mask(c.Kernel, c.Input.Channels, c.Out, c.Colours, c.TypeA), .. Enumerable.Repeat(1f, cond + c.Out)]);
            (kept, workspace) = (d.Floats(Layer.KeptFloats(c.Batch)), d.Floats(Layer.WorkspaceFloats(c.Batch)));
            Z = d.Upload(z);
            Dz = d.Floats(z.Length);
        }

        public MaskedConv2dLayer Layer { get; }
        public ArrayView<float> Parameters { get; }
        public ArrayView<float> Gradients { get; }
        public ArrayView<float> Z { get; }
        public ArrayView<float> Dz { get; }

        public LayerBuffers Buffers(bool accumulateContext = false) => new(d.Device.Kernels, Parameters, Gradients, kept, workspace)
        {
            Context = Z, ContextGradient = Dz, AccumulateContextGradient = accumulateContext, Masks = masks,
        };

        public ArrayView<float> Forward(float[] x)
        {
            var y = d.Floats(c.Batch * c.Shape.Output.Size);
            Layer.Forward(Buffers(), c.Batch, d.Upload(x), y);
            return y;
        }

        /// <summary>(dW in PyTorch's layout, dV, db), and dW as kept.</summary>
        public (double[] Dw, float[] Dv, float[] Db, float[] Kept) ParameterGradients()
        {
            var all = DeviceArrays.Download(Gradients);
            int w = c.Shape.WeightLength, cond = c.Out * c.Shape.Latent;
            return (c.Shape.File(all[..w]), all[w..(w + cond)], all[(w + cond)..], all[..w]);
        }
    }

    /// <summary>Random inputs of a case: x (NCHW, in the input activation's range), W (PyTorch's layout, masked), V, b, z.</summary>
    static (double[] X, double[] W, float[] V, float[] Bias, float[] Z) Inputs(Case c, Random random)
    {
        var s = c.Shape;
        var x = TestData.Uniform(random, c.Batch * c.Input.Size).Select(u => Reference.Act(2 * u, c.InputActivation)).ToArray();
        var mask = c.FileMask;
        var w = TestData.Uniform(random, s.WeightLength).Select((u, i) => (double)(u * mask[i])).ToArray();
        return (x, w, TestData.Uniform(random, c.Out * s.Latent), TestData.Uniform(random, c.Out), TestData.Uniform(random, c.Batch * s.Latent));
    }

    [DeviceTheory]
    [MemberData(nameof(DeviceCases))]
    public void ForwardAndBackwardMatchTheReference(string device, int index)
    {
        var c = Cases[index];
        var s = c.Shape;
        var random = new Random(index + 40);
        var (x, w, v, bias, z) = Inputs(c, random);
        var dPre = TestData.ToDouble(TestData.Uniform(random, c.Batch * s.Output.Size));
        var previousDz = TestData.Uniform(random, z.Length);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var rig = new Rig(d, c, w, v, bias, z);
        var xView = d.Upload(ToLayout(x, c.Batch, c.Input, c.InputChannelsLast));
        var y = d.Floats(c.Batch * s.Output.Size);
        rig.Layer.Forward(rig.Buffers(), c.Batch, xView, y);
        var pre = s.Pre(x, w, TestData.ToDouble(v), TestData.ToDouble(bias), TestData.ToDouble(z));
        Tolerance.AssertClose(DeviceArrays.Download(y), TestData.ToDouble(ToLayout(pre.Select(p => Reference.Act(p, c.Activation)).ToArray(),
            c.Batch, s.Output, c.OutputChannelsLast)), 1e-5, $"{c} y");

        var (wantDx, wantDw, wantDv, wantDb, wantDz) = s.Backward(x, w, TestData.ToDouble(v), TestData.ToDouble(z), dPre);
        var mask = c.FileMask;
        foreach (bool accumulate in new[] { false, true })
        {
            var dx = d.Upload(Enumerable.Repeat(float.NaN, x.Length).ToArray());
            rig.Dz.CopyFromCPU(accumulate ? previousDz : Enumerable.Repeat(float.NaN, z.Length).ToArray());
            rig.Layer.Backward(rig.Buffers(accumulate), c.Batch, xView, d.Upload(ToLayout(dPre, c.Batch, s.Output, c.OutputChannelsLast)), c.InputActivation, dx);
            string what = $"{c}{(accumulate ? " (dz added)" : "")}";
            var gotDx = FromLayout(DeviceArrays.Download(dx), c.Batch, c.Input, c.InputChannelsLast);
            Tolerance.AssertClose(gotDx.Select(g => (float)g).ToArray(), wantDx.Select((g, i) => g * Reference.ActGradFromOutput(x[i], c.InputActivation)).ToArray(), 1e-5, what + " dx");
            var (dw, dv, db, keptDw) = rig.ParameterGradients();
            Tolerance.AssertClose(dw.Select(g => (float)g).ToArray(), wantDw.Select((g, i) => g * mask[i]).ToArray(), 1e-5, what + " dW");
            Tolerance.AssertClose(dv, wantDv, 1e-5, what + " dV");
            Tolerance.AssertClose(db, wantDb, 1e-5, what + " db");
            Tolerance.AssertClose(DeviceArrays.Download(rig.Dz), wantDz.Select((g, i) => g + (accumulate ? previousDz[i] : 0)).ToArray(), 1e-5, what + " dz");
            // Masked entries — the centre's, and the whole tail below it that no product reads — hold +0 exactly.
            var keptMask = PixelCnn.Mask(c.Kernel, c.Input.Channels, c.Out, c.Colours, c.TypeA);
            Assert.All(keptDw.Where((_, i) => keptMask[i] == 0f), g => Assert.Equal(0, BitConverter.SingleToInt32Bits(g)));
        }
    }

    /// <summary>L = Σ r ⊙ y of one layer: the backward's gradients for x, W (masked), V, b and z, dotted with a random direction, against central differences.</summary>
    [DeviceTheory]
    [MemberData(nameof(FiniteDifferenceCases))]
    public void BackwardMatchesFiniteDifferencesOfForward(string device, int index)
    {
        var c = Cases[index];
        var s = c.Shape;
        var random = new Random(index + 90);
        var (x, w, v, bias, z) = Inputs(c, random);
        var r = TestData.Uniform(random, c.Batch * s.Output.Size);
        var x0 = ToLayout(x, c.Batch, c.Input, c.InputChannelsLast);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var rig = new Rig(d, c, w, v, bias, z);
        double Loss(Rig rig, float[] xs) => DeviceArrays.Download(rig.Forward(xs)).Zip(r, (p, q) => (double)p * q).Sum();

        var y = DeviceArrays.Download(rig.Forward(x0));
        var dPre = y.Select((value, i) => (float)(r[i] * Reference.ActGradFromOutput(value, c.Activation))).ToArray();
        var dx = d.Floats(x0.Length);
        rig.Layer.Backward(rig.Buffers(), c.Batch, d.Upload(x0), d.Upload(dPre), Activation.Identity, dx);
        var (dw, dv, db, _) = rig.ParameterGradients();
        var dz = DeviceArrays.Download(rig.Dz);

        var mask = c.FileMask;
        var (ux, uw, uv, ub, uz) = (TestData.Normal(random, x0.Length), TestData.Normal(random, w.Length).Select((u, i) => u * mask[i]).ToArray(),
            TestData.Normal(random, v.Length), TestData.Normal(random, bias.Length), TestData.Normal(random, z.Length));
        double analytic = Dot(DeviceArrays.Download(dx), ux) + dw.Zip(uw, (g, u) => g * u).Sum() + Dot(dv, uv) + Dot(db, ub) + Dot(dz, uz);
        const float step = 2e-3f;
        double Shifted(float e)
        {
            static float[] Shift(float[] a, float[] u, float e) => a.Select((t, i) => t + e * u[i]).ToArray();
            var shifted = new Rig(d, c, w.Select((t, i) => t + e * uw[i]).ToArray(), Shift(v, uv, e), Shift(bias, ub, e), Shift(z, uz, e));
            return Loss(shifted, Shift(x0, ux, e));
        }
        Tolerance.AssertNear((Shifted(step) - Shifted(-step)) / (2 * step), analytic, 1e-2, 1e-3, $"{c} directional derivative");
    }

    [Fact]
    public void TheBackwardRefusesToAddIntoItsInputsGradient()
    {
        var c = Cases[3];
        var random = new Random(5);
        var (x, w, v, bias, z) = Inputs(c, random);
        using var d = new DeviceArrays(TestDevices.Get(TestDevices.Cpu));
        var rig = new Rig(d, c, w, v, bias, z);
        var xv = d.Upload(ToLayout(x, c.Batch, c.Input, true));
        rig.Layer.Forward(rig.Buffers(), c.Batch, xv, d.Floats(c.Batch * c.Shape.Output.Size));
        Assert.Throws<InternalFaultException>(() => rig.Layer.Backward(rig.Buffers() with { AccumulateInputGradient = true }, c.Batch, xv,
            d.Floats(c.Batch * c.Shape.Output.Size), c.InputActivation, d.Floats(x.Length)));
    }

    static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    public static TheoryData<string, int> FiniteDifferenceCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (int c in new[] { 1, 3, 7 }) data.Add(device, c);
        return data;
    }
}
