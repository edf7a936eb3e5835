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
        // The geometry in locals: the JIT would otherwise reload each field after every store through a ref.
        int channels = g.Channels, width = g.ImageWidth, height = g.ImageHeight, pixels = width * height;
        int gridWidth = g.GridWidth, gridPixels = g.GridHeight * gridWidth, kernelWidth = g.KernelWidth, kernelHeight = g.KernelHeight;
        int stride = g.Stride, padding = g.Padding, colWidth = g.ColWidth, channelStride = g.ChannelStride, pixelStride = g.PixelStride;
        bool blocks = channels >= 8 && channelStride == 1;
        for (int row = r0; row < r1; row++)
        {
            int b = row / gridPixels, gp = row - b * gridPixels, gy = gp / gridWidth, gx = gp - gy * gridWidth;
            int imageBase = b * channels * pixels, to = row * colWidth;
            for (int ky = 0; ky < kernelHeight; ky++)
            {
                int iy = gy * stride + ky - padding;
                for (int kx = 0; kx < kernelWidth; kx++, to += channels)
                {
                    int ix = gx * stride + kx - padding;
                    bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                    int from = imageBase + (iy * width + ix) * pixelStride;
                    if (!blocks)
                        // A few channels, or NCHW: element by element (a block copy's call costs more than it moves).
                        for (int ch = 0; ch < channels; ch++)
                            At(ref c, to + ch) = inside ? At(ref img, from + ch * channelStride) : 0f;
                    else if (inside)
                        Run(ref img, from, channels).CopyTo(Run(ref c, to, channels));
                    else
                        Run(ref c, to, channels).Clear();
                }
            }
        }
    }

    [External("ilgpuvae_col2im_rows")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Col2Im(ConvGeometry g, int p0, int p1, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        ref float c = ref col[0], img = ref image[0];
        // A plain gather (no bias, no derivative: a 1×1 transposition between layouts) passes no aux.
        ref float a = ref aux.Length > 0 ? ref aux[0] : ref Unsafe.NullRef<float>();
        // The geometry in locals: the JIT would otherwise reload each field after every store through a ref.
        int channels = g.Channels, width = g.ImageWidth, height = g.ImageHeight, pixels = width * height;
        int gridWidth = g.GridWidth, gridHeight = g.GridHeight, kernelWidth = g.KernelWidth, kernelHeight = g.KernelHeight;
        int stride = g.Stride, padding = g.Padding, colWidth = g.ColWidth, channelStride = g.ChannelStride;
        int mode = g.AddBias != 0 ? 2 : g.Activation == (int)Activation.Identity ? 0 : 1, activation = g.Activation;
        // Channels-last images take the pixel's channels a vector at a time where the activation has a vector form.
        int w = Vector<float>.Count, vectorEnd = channels - channels % w;
        bool vectors = channelStride == 1 && vectorEnd > 0
            && (mode == 1 ? VectorActivations.HasDerivative(activation) : VectorActivations.HasForward(activation));
        Span<float> sums = channels <= 1024 ? stackalloc float[channels] : new float[channels];
        ref float sum = ref sums[0];
        // Walk the band pixel by pixel, keeping (iy + padding) and (ix + padding) as quotient and remainder by the
        // stride: divisions by a stride known only at run time cost more than the rest of a pixel's work.
        int b = p0 / pixels, pixel = p0 - b * pixels, iy = pixel / width, ix = pixel - iy * width;
        int q0 = padding / stride, r0 = padding % stride; // the quotient and remainder at row or column 0
        int qy = (iy + padding) / stride, ry = (iy + padding) % stride, qx = (ix + padding) / stride, rx = (ix + padding) % stride;
        for (int p = p0; p < p1; p++)
        {
            sums.Clear();
            // Only the taps ky ≡ iy + padding (mod stride) reach this pixel, each from the grid row one above the last.
            for (int ky = ry, gy = qy; ky < kernelHeight && gy >= 0; ky += stride, gy--)
            {
                if (gy >= gridHeight) continue;
                int rowBase = (b * gridHeight + gy) * gridWidth;
                for (int kx = rx, gx = qx; kx < kernelWidth && gx >= 0; kx += stride, gx--)
                    if (gx < gridWidth)
                        Add(ref sum, ref At(ref c, (rowBase + gx) * colWidth + (ky * kernelWidth + kx) * channels), channels);
            }
            // The pixel's channels into the image: act(sum + bias[c]), or sum · act'(aux), or the sum.
            int first = b * channels * pixels + pixel * (channelStride == 1 ? channels : 1), ch = 0;
            if (vectors)
                for (; ch < vectorEnd; ch += w)
                {
                    var s = Vector.LoadUnsafe(ref sum, (nuint)ch);
                    var value = mode == 0 ? s
                        : mode == 2 ? VectorActivations.Forward(s + Vector.LoadUnsafe(ref a, (nuint)ch), activation)
                        : s * VectorActivations.Derivative(Vector.LoadUnsafe(ref a, (nuint)(first + ch)), activation);
                    value.StoreUnsafe(ref img, (nuint)(first + ch));
                }
            for (; ch < channels; ch++)
            {
                int e = first + ch * channelStride;
                float s = At(ref sum, ch);
                At(ref img, e) = mode == 0 ? s
                    : mode == 2 ? Activations.Forward(s + At(ref a, ch), activation)
                    : s * Activations.Derivative(At(ref a, e), activation);
            }
            // Next pixel: along the row, then to the next row, then to the next image.
            pixel++;
            if (++ix < width)
            {
                if (++rx == stride) { rx = 0; qx++; }
                continue;
            }
            (ix, qx, rx) = (0, q0, r0);
            if (++iy < height)
            {
                if (++ry == stride) { ry = 0; qy++; }
                continue;
            }
            (iy, qy, ry, pixel) = (0, q0, r0, 0);
            b++;
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

    /// <summary>sums[0..n) += values[0..n), a vector at a time.</summary>
    static void Add(ref float sums, ref float values, int n)
    {
        int i = 0, w = Vector<float>.Count;
        for (; i + w <= n; i += w)
            (Vector.LoadUnsafe(ref sums, (nuint)i) + Vector.LoadUnsafe(ref values, (nuint)i)).StoreUnsafe(ref sums, (nuint)i);
        for (; i < n; i++) At(ref sums, i) += At(ref values, i);
    }
}
