using ILGPU.Runtime;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// A whole PixelCNN decoder stack (<see cref="PixelCnnLayout"/>: a type-A conv on the NCHW data, type-B convs, the 1×1
/// conv to NCHW logits or means) on every accelerator and GPU launch shape: changing values i, i + 1, … never changes
/// outputs 0 … i (bit for bit: every path from them runs through weights held at exactly zero), while the value
/// before i does change output i; sampling draws each value from the decoder's output for the values before it;
/// and the stack's backward — through every layer to the parameters and, summed over the layers, to z — agrees
/// with finite differences of its forward.
/// </summary>
public sealed class PixelCnnStackTests
{
    static readonly PixelCnnSpec[] Specs =
    [
        new(new ImageShape(1, 5, 7), 4, 2, 3, 5),
        new(new ImageShape(3, 4, 5), 6, 1, 5, 3),
        new(new ImageShape(3, 3, 2), 4, 1, 3, 3),
        new(new ImageShape(1, 3, 4), 2, 1, 3, 3),
    ];

    /// <summary>Sampling runs the whole stack once per value: the larger images on the CPU kernels only, where a pass is quick.</summary>
    const int SampledEverywhere = 2;

    const int Latent = 3, Batch = 2;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = 0; s < Specs.Length; s++) data.Add(device, s);
        return data;
    }

    public static TheoryData<string, int> SamplingCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = device == TestDevices.Cpu ? 0 : SampledEverywhere; s < Specs.Length; s++) data.Add(device, s);
        return data;
    }

    static PixelCnnLayout Layout(PixelCnnSpec spec) => new(spec, Latent, Activation.Tanh, 0);

    static PixelCnnRig Rig(DeviceArrays d, PixelCnnSpec spec, Random random, float[]? parameters = null) =>
        new(d, Layout(spec), Batch, parameters ?? PixelCnnRig.RandomParameters(Layout(spec), random), TestData.Uniform(random, Batch * Latent));

    /// <summary>Rows of images with the values at drawing positions from <paramref name="first"/> on replaced by fresh ones.</summary>
    static float[] WithValuesFrom(float[] x, ImageShape image, int first, Random random)
    {
        var changed = (float[])x.Clone();
        for (int b = 0; b < Batch; b++)
            for (int q = first; q < image.Size; q++) changed[b * image.Size + PixelCnn.ValueAt(q, image)] = (float)random.NextDouble();
        return changed;
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ChangingLaterValuesNeverChangesAnEarlierOutput(string device, int index)
    {
        var spec = Specs[index];
        var image = spec.Image;
        var random = new Random(index + 3);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var stack = Rig(d, spec, random);
        var x = TestData.Uniform(random, Batch * image.Size, 0, 1);
        var baseline = stack.Forward(x);
        int size = image.Size;
        // The first values, both ends of a row and the last, in the drawing order.
        int rowValues = image.Width * image.Channels;
        foreach (int q in new[] { 0, 1, image.Channels, rowValues - 1, rowValues, size / 2, size - 1 }.Where(q => q < size).Distinct())
        {
            var changed = stack.Forward(WithValuesFrom(x, image, q, random));
            for (int b = 0; b < Batch; b++)
                for (int p = 0; p <= q; p++)
                {
                    int e = b * size + PixelCnn.ValueAt(p, image);
                    Assert.True(changed[e] == baseline[e], $"output {p} moved when values {q}… changed ({baseline[e]:R} → {changed[e]:R})");
                }
            // The value just before q (its pixel's previous channel, or the left pixel's last) does reach output q.
            if (q == 0 || PixelCnn.ValueAt(q, image) % image.Pixels % image.Width == 0 && q % image.Channels == 0) continue;
            var earlier = (float[])x.Clone();
            earlier[PixelCnn.ValueAt(q - 1, image)] += 0.5f;
            int at = PixelCnn.ValueAt(q, image);
            Assert.True(stack.Forward(earlier)[at] != baseline[at], $"output {q} ignores value {q - 1}");
        }
    }

    [DeviceTheory]
    [MemberData(nameof(SamplingCases))]
    public void SamplingDrawsEachValueFromTheOutputForTheValuesBeforeIt(string device, int index)
    {
        var spec = Specs[index];
        using var d = new DeviceArrays(TestDevices.Get(device));
        var stack = Rig(d, spec, new Random(index + 17));
        var x = d.Floats(Batch * spec.Image.Size);
        const ulong key = 12345;
        foreach (var likelihood in new[] { Likelihood.Gaussian, Likelihood.Bernoulli })
        {
            PixelCnn.Sample(d.Device.Kernels, spec.Image, Batch, likelihood, key, () => stack.Forward(x), stack.Output, x);
            var drawn = DeviceArrays.Download(x);
            // Output i does not depend on values i, i + 1, …, so the decoder on the finished image gives every value's output as drawn.
            var output = stack.Forward(x);
            for (int e = 0; e < drawn.Length; e++)
            {
                if (likelihood == Likelihood.Gaussian)
                {
                    Assert.True(drawn[e] == output[e], $"value {e}: {drawn[e]:R}, its mean {output[e]:R}");
                    continue;
                }
                float u = CounterRng.Uniform(CounterRng.Key(key, RandomStreams.Pictures, (ulong)(e % spec.Image.Size)), e / spec.Image.Size);
                float p = Activations.Sigmoid(output[e]);
                // A device's sigmoid may differ from the host's in the last bit: a draw that close to its probability may go either way.
                if (Math.Abs(u - p) > 1e-6f) Assert.Equal(u < p ? 1f : 0f, drawn[e]);
            }
            if (likelihood == Likelihood.Bernoulli) Assert.True(drawn.Contains(0f) && drawn.Contains(1f), "the draws are all one value");
        }
    }

    /// <summary>L = Σ r ⊙ output: the stack's gradients for every parameter (masked directions) and z, against central differences.</summary>
    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void TheStacksBackwardMatchesFiniteDifferences(string device, int index)
    {
        var spec = Specs[index];
        var random = new Random(index + 29);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var values = PixelCnnRig.RandomParameters(Layout(spec), random);
        var stack = Rig(d, spec, random, values);
        var x = d.Upload(TestData.Uniform(random, Batch * spec.Image.Size, 0, 1));
        var r = TestData.Uniform(random, Batch * spec.Image.Size);
        stack.Forward(x);
        stack.Backward(x, r);
        var (grads, dz) = (DeviceArrays.Download(stack.Gradients), DeviceArrays.Download(stack.Dz));
        var z = DeviceArrays.Download(stack.Z);
        var mask = PixelCnnRig.Masks(Layout(spec));
        var (up, uz) = (TestData.Normal(random, grads.Length).Select((u, i) => u * mask[i]).ToArray(), TestData.Normal(random, z.Length));
        double analytic = grads.Zip(up, (g, u) => (double)g * u).Sum() + dz.Zip(uz, (g, u) => (double)g * u).Sum();
        const float step = 2e-3f;
        double Loss(float e)
        {
            var shifted = Rig(d, spec, random, values.Select((v, i) => v + e * up[i]).ToArray());
            shifted.Z.CopyFromCPU(z.Select((v, i) => v + e * uz[i]).ToArray());
            return shifted.Forward(x).Zip(r, (o, w) => (double)o * w).Sum();
        }
        Tolerance.AssertNear((Loss(step) - Loss(-step)) / (2 * step), analytic, 1e-2, 1e-3, "directional derivative");
    }
}
