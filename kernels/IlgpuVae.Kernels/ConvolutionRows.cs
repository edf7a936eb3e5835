using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's bodies of <see cref="Convolutions"/>' band kernels: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>), so a tap's channels — contiguous in the model's NHWC tensors —
/// move as one block copy or vector add instead of element by element. NCHW image sides (the data's) take a
/// strided loop. The host has checked the views' sizes: nothing is checked here.
/// </summary>
static class ConvolutionRows
{
    static ref float At(ref float r, int i) => ref Unsafe.Add(ref r, i);

    static Span<float> Run(ref float r, int start, int length) => MemoryMarshal.CreateSpan(ref At(ref r, start), length);

    [External("ilgpuvae_im2col_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Im2Col(ConvGeometry g, int r0, int r1, ArrayView<float> image, ArrayView<float> col)
    {
        ref float img = ref image[0], c = ref col[0];
        int gridPixels = g.GridHeight * g.GridWidth, channels = g.Channels;
        for (int row = r0; row < r1; row++)
        {
            int b = row / gridPixels, gp = row - b * gridPixels, gy = gp / g.GridWidth, gx = gp - gy * g.GridWidth;
            for (int ky = 0; ky < g.KernelHeight; ky++)
                for (int kx = 0; kx < g.KernelWidth; kx++)
                {
                    var target = Run(ref c, row * g.ColWidth + (ky * g.KernelWidth + kx) * channels, channels);
                    int iy = gy * g.Stride + ky - g.Padding, ix = gx * g.Stride + kx - g.Padding;
                    if (iy < 0 || iy >= g.ImageHeight || ix < 0 || ix >= g.ImageWidth)
                        target.Clear();
                    else if (g.ChannelsLast)
                        Run(ref img, g.ImageIndex(b, 0, iy * g.ImageWidth + ix), channels).CopyTo(target);
                    else
                        for (int ch = 0; ch < channels; ch++)
                            target[ch] = At(ref img, g.ImageIndex(b, ch, iy * g.ImageWidth + ix));
                }
        }
    }

    [External("ilgpuvae_col2im_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Col2Im(ConvGeometry g, int p0, int p1, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        ref float c = ref col[0], a = ref aux[0], img = ref image[0];
        int pixels = g.ImagePixels, channels = g.Channels;
        Span<float> sums = channels <= 1024 ? stackalloc float[channels] : new float[channels];
        for (int p = p0; p < p1; p++)
        {
            int b = p / pixels, pixel = p - b * pixels, iy = pixel / g.ImageWidth, ix = pixel - iy * g.ImageWidth;
            sums.Clear();
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                int ty = iy + g.Padding - ky;
                if (ty < 0 || ty % g.Stride != 0 || ty / g.Stride >= g.GridHeight) continue;
                for (int kx = 0; kx < g.KernelWidth; kx++)
                {
                    int tx = ix + g.Padding - kx;
                    if (tx < 0 || tx % g.Stride != 0 || tx / g.Stride >= g.GridWidth) continue;
                    int row = (b * g.GridHeight + ty / g.Stride) * g.GridWidth + tx / g.Stride;
                    Add(sums, Run(ref c, row * g.ColWidth + (ky * g.KernelWidth + kx) * channels, channels));
                }
            }
            for (int ch = 0; ch < channels; ch++)
            {
                int e = g.ImageIndex(b, ch, pixel);
                float sum = sums[ch];
                At(ref img, e) = g.AddBias != 0
                    ? Activations.Forward(sum + At(ref a, ch), g.Activation)
                    : g.Activation == (int)Activation.Identity ? sum : sum * Activations.Derivative(At(ref a, e), g.Activation);
            }
        }
    }

    /// <summary>sums[c] = Σ over images and pixels of values at channel c, in double, for channels [c0, c1).</summary>
    [External("ilgpuvae_channel_sums")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChannelSums(ConvGeometry g, int c0, int c1, ArrayView<float> values, ArrayView<float> sums)
    {
        ref float v = ref values[0], s = ref sums[0];
        int pixels = g.ImagePixels;
        for (int ch = c0; ch < c1; ch++)
        {
            double sum = 0;
            for (int b = 0; b < g.Batch; b++)
                for (int p = 0; p < pixels; p++)
                    sum += At(ref v, g.ImageIndex(b, ch, p));
            At(ref s, ch) = (float)sum;
        }
    }

    static void Add(Span<float> sums, Span<float> values)
    {
        int i = 0, w = Vector<float>.Count;
        for (; i + w <= sums.Length; i += w)
            (new Vector<float>(sums[i..]) + new Vector<float>(values[i..])).CopyTo(sums[i..]);
        for (; i < sums.Length; i++) sums[i] += values[i];
    }
}
