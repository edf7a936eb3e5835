using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The masks and value order of a conditional PixelCNN decoder (van den Oord et al., 2016), p(x|z) = Π_i p(x_i | x_&lt;i, z).
/// Deterministic, so a checkpoint's model rebuilds the same masks from its shape:
///   order: pixel by pixel in raster order, and within a pixel channel by channel (R, G, B): the value of channel c
///     at pixel p (flattened NCHW index c·H·W + p) is number p·C + c of C·H·W;
///   groups: a layer's n channels fall into C colour groups, channel j in group ⌊j·C / n⌋ — contiguous blocks whose
///     sizes differ by at most one, for any n (none empty when n ≥ C); the data's channel c is group c;
///   taps: a K×K kernel (K odd, r = (K − 1)/2, "same" padding r, stride 1) reads input pixel (y + ky − r, x + kx − r)
///     at tap t = ky·K + kx. Output channel o sees input channel i at every tap before the centre in raster order
///     (t &lt; (K² − 1)/2: the rows above and the pixels to the left), at the centre (ky = kx = r) where
///     group(o) &gt; group(i) in a type-A layer and group(o) ≥ group(i) in a type-B layer, and at no tap after it.
/// A stack of a type-A layer on the data, type-B layers after it, and a final 1×1 type-B layer to the C channels
/// makes output value i depend on values before i only (a value's own channel group reaches it only through a
/// type-A centre, which excludes it). With one channel (grey) there is one group: a type-A centre is empty, a
/// type-B centre full. As in the original PixelCNN, not every earlier value is reached: each layer sees the row
/// above only r pixels to the right, so the end of the row above lies outside the receptive field when it is wide.
/// </summary>
internal static class PixelCnn
{
    /// <summary>The colour group of channel <paramref name="channel"/> of a layer with <paramref name="channels"/>, for <paramref name="colours"/> groups.</summary>
    public static int Group(int channel, int channels, int colours) => (int)((long)channel * colours / channels);

    /// <summary>The centre tap of a K×K kernel in raster order, (K² − 1)/2.</summary>
    public static int Centre(int kernel) => kernel * kernel / 2;

    /// <summary>Whether tap <paramref name="tap"/> connects an output of group <paramref name="outGroup"/> to an input of group <paramref name="inGroup"/>.</summary>
    public static bool Connected(int tap, int kernel, int outGroup, int inGroup, bool typeA)
    {
        int centre = Centre(kernel);
        return tap < centre || tap == centre && (typeA ? outGroup > inGroup : outGroup >= inGroup);
    }

    /// <summary>
    /// The 0/1 mask of a masked conv in the layout its weight is kept in, [K, K, Ci, Co] (tap, then input channel,
    /// then output channel: <see cref="MaskedConv2dLayer"/>); <see cref="FileIndex"/> maps it to PyTorch's [Co, Ci, K, K].
    /// </summary>
    public static float[] Mask(int kernel, int inChannels, int outChannels, int colours, bool typeA)
    {
        var mask = new float[kernel * kernel * inChannels * outChannels];
        for (int t = 0; t < kernel * kernel; t++)
            for (int i = 0; i < inChannels; i++)
                for (int o = 0; o < outChannels; o++)
                    if (Connected(t, kernel, Group(o, outChannels, colours), Group(i, inChannels, colours), typeA))
                        mask[(t * inChannels + i) * outChannels + o] = 1f;
        return mask;
    }

    /// <summary>Where element i of a weight kept as [K, K, Ci, Co] sits in PyTorch's [Co, Ci, K, K].</summary>
    public static Func<int, int> FileIndex(int kernel, int inChannels, int outChannels) => i =>
    {
        int tap = i / (inChannels * outChannels), ci = i / outChannels % inChannels, co = i % outChannels;
        return (co * inChannels + ci) * kernel * kernel + tap;
    };

    /// <summary>The flattened NCHW index of the value drawn <paramref name="position"/>-th (pixel-major, channel within pixel).</summary>
    public static int ValueAt(int position, ImageShape image) => position % image.Channels * image.Pixels + position / image.Channels;

    /// <summary>The position in the drawing order of the value at flattened NCHW index <paramref name="index"/>.</summary>
    public static int PositionOf(int index, ImageShape image) => index % image.Pixels * image.Channels + index / image.Pixels;

    /// <summary>
    /// Images drawn from a PixelCNN decoder for the codes it reads, value by value in the drawing order into
    /// <paramref name="x"/> [batch, C·H·W] (NCHW), which starts at zero: <paramref name="decode"/> is one full pass of the
    /// decoder over x into <paramref name="output"/> (logits or means, NCHW), then one value is drawn from it — a
    /// Bernoulli draw keyed by <paramref name="key"/> and the value's index, or the Gaussian's mean.
    /// </summary>
    public static void Sample(KernelSet kernels, ImageShape image, int batch, Likelihood likelihood, ulong key,
        Action decode, ArrayView<float> output, ArrayView<float> x)
    {
        int d = image.Size;
        x.SubView(0, (long)batch * d).MemSetToZero();
        for (int position = 0; position < d; position++)
        {
            int index = ValueAt(position, image);
            decode();
            kernels.SamplePixel(batch, d, index, likelihood, CounterRng.Key(key, RandomStreams.Pictures, (ulong)index), output, x);
        }
    }
}
