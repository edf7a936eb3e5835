using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// Where a convolution's kernel taps land. A conv and a transposed conv relate two grids of pixels the same way:
/// the kernel sits at each position (gy, gx) of the <em>grid</em> and its tap (ky, kx) touches image pixel
///   (iy, ix) = (gy·stride + ky − padding, gx·stride + kx − padding)   (outside the image: zero padding).
/// For Conv2d the image is the layer's input and the grid its output; for ConvTranspose2d the grid is the
/// input and the image the output (whose extra output padding only widens the image).
///
/// A column matrix ("col") has one row per grid position of every image, [Batch·GridH·GridW, ColWidth], and
/// per row the taps' channels: column (ky·KW + kx)·Channels + c. With it every convolution is a product of the
/// existing kernels (see <see cref="Convolutions"/>). The image-side tensor is NHWC (channel stride 1, pixel
/// stride C) inside the model, or NCHW (H·W and 1) where it meets the data (the input image, the decoder's
/// output).
/// </summary>
public struct ConvGeometry
{
    /// <summary>Images in the batch, and channels of the image-side tensor.</summary>
    public int Batch, Channels;
    /// <summary>The image side's and the grid side's height and width.</summary>
    public int ImageHeight, ImageWidth, GridHeight, GridWidth;
    /// <summary>The kernel's size, and the stride and zero padding on both axes.</summary>
    public int KernelHeight, KernelWidth, Stride, Padding;
    /// <summary>Elements between neighbouring channels and neighbouring pixels of the image-side tensor.</summary>
    public int ChannelStride, PixelStride;
    /// <summary>
    /// <see cref="Convolutions.Col2ImGpu"/>'s epilogue: the activation applied after the bias (a transposed conv's
    /// forward), or, for a conv's input gradient, the activation whose derivative (from its output) multiplies the sum.
    /// </summary>
    public int Activation;
    /// <summary>1: Col2Im finishes a transposed conv's forward, act(sum + bias[c]); 0: a conv's input gradient, sum · act'(aux).</summary>
    public int AddBias;
    /// <summary>The launch's items among its threads: col elements for Im2Col, image elements for Col2Im.</summary>
    public Partition Items;

    /// <summary>Columns of the column matrix: KH·KW·C taps.</summary>
    public readonly int ColWidth => KernelHeight * KernelWidth * Channels;
    /// <summary>Rows of the column matrix: one per grid position of every image.</summary>
    public readonly int ColRows => Batch * GridHeight * GridWidth;
    /// <summary>Pixels per channel of one image-side image.</summary>
    public readonly int ImagePixels => ImageHeight * ImageWidth;
    /// <summary>Elements of the whole image-side tensor.</summary>
    public readonly int ImageSize => Batch * Channels * ImagePixels;
    /// <summary>Whether the image side is NHWC.</summary>
    public readonly bool ChannelsLast => ChannelStride == 1;

    /// <summary>Element (b, c, pixel) of the image-side tensor.</summary>
    public readonly int ImageIndex(int b, int c, int pixel) => b * Channels * ImagePixels + c * ChannelStride + pixel * PixelStride;
}

/// <summary>
/// The two gathers that, with the dense products, make Conv2d and ConvTranspose2d (NCHW semantics, PyTorch's
/// arithmetic, any kernel size, stride and padding, output padding for the transposed one):
///   Conv2d forward:     col = Im2Col(x);  y = act(col·Wᵀ + b)                          (W as [Co, KH·KW·Ci])
///   Conv2d backward:    dW = dYᵀ·col, db = Σ dY, dCol = dY·W;  dX = Col2Im(dCol) ⊙ act'(x)
///   ConvT forward:      cols = x·W;  y = act(Col2Im(cols) + b)                          (W as [Ci, KH·KW·Co])
///   ConvT backward:     dCols = Im2Col(dY);  dW = xᵀ·dCols, dX = dCols·Wᵀ ⊙ act'(x), db = per-channel Σ dY
/// Col2Im gathers (for each image element, the taps that touched it), so no element is written twice and no
/// atomics are needed. GPUs run the element-wise kernels (one col or image element per thread in turn, writes
/// coalesced); the CPU accelerator runs the band kernels, whose rows are [External] vector code that copies and
/// adds a tap's channels as whole vectors.
/// </summary>
public static class Convolutions
{
    // ---- GPU: one element per thread in turn ---------------------------------------------------------------

    /// <summary>col[row, (ky·KW + kx)·C + c] = image[b, c, iy, ix], or 0 where the tap falls in the padding.</summary>
    public static void Im2ColGpu(Index1D thread, ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        var s = g.Items;
        int width = g.ColWidth;
        foreach (int e in s.Of(thread))
        {
            int row = e / width, k = e - row * width;
            col[e] = Tap(g, image, row, k / g.Channels, k % g.Channels);
        }
    }

    /// <summary>
    /// Each image element from the col entries of the taps that touched it; then act(sum + bias[c]) or sum · act'(aux[e]).
    /// The image-side tensor is walked in memory order.
    /// </summary>
    public static void Col2ImGpu(Index1D thread, ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        var s = g.Items;
        int pixels = g.ImagePixels;
        foreach (int e in s.Of(thread))
        {
            int b = e / (g.Channels * pixels), rest = e - b * g.Channels * pixels;
            int c = g.ChannelsLast ? rest % g.Channels : rest / pixels;
            int pixel = g.ChannelsLast ? rest / g.Channels : rest % pixels;
            image[e] = Finish(g, TapSum(g, col, b, c, pixel), c, aux, e);
        }
    }

    /// <summary>The value tap (ky·KW + kx) of grid position <paramref name="row"/> reads from channel c.</summary>
    static float Tap(ConvGeometry g, ArrayView<float> image, int row, int tap, int c)
    {
        int gridPixels = g.GridHeight * g.GridWidth;
        int b = row / gridPixels, gp = row - b * gridPixels, gy = gp / g.GridWidth, gx = gp - gy * g.GridWidth;
        int ky = tap / g.KernelWidth, kx = tap - ky * g.KernelWidth;
        int iy = gy * g.Stride + ky - g.Padding, ix = gx * g.Stride + kx - g.Padding;
        return iy >= 0 && iy < g.ImageHeight && ix >= 0 && ix < g.ImageWidth ? image[g.ImageIndex(b, c, iy * g.ImageWidth + ix)] : 0f;
    }

    /// <summary>Σ over the taps (ky, kx) whose grid position (gy, gx) = ((iy + p − ky)/s, (ix + p − kx)/s) is whole and inside the grid.</summary>
    static float TapSum(ConvGeometry g, ArrayView<float> col, int b, int c, int pixel)
    {
        int iy = pixel / g.ImageWidth, ix = pixel - iy * g.ImageWidth;
        int firstKy = (iy + g.Padding) % g.Stride, firstKx = (ix + g.Padding) % g.Stride;
        float sum = 0f;
        // Only the taps ky ≡ iy + padding (mod stride) reach this pixel, each from the grid row one above the last.
        for (int ky = firstKy, gy = (iy + g.Padding) / g.Stride; ky < g.KernelHeight && gy >= 0; ky += g.Stride, gy--)
        {
            if (gy >= g.GridHeight) continue;
            int rowBase = (b * g.GridHeight + gy) * g.GridWidth;
            for (int kx = firstKx, gx = (ix + g.Padding) / g.Stride; kx < g.KernelWidth && gx >= 0; kx += g.Stride, gx--)
                if (gx < g.GridWidth)
                    sum += col[(rowBase + gx) * g.ColWidth + (ky * g.KernelWidth + kx) * g.Channels + c];
        }
        return sum;
    }

    static float Finish(ConvGeometry g, float sum, int c, ArrayView<float> aux, int e) => g.AddBias != 0
        ? Activations.Forward(sum + aux[c], g.Activation)
        : g.Activation == (int)Kernels.Activation.Identity ? sum : sum * Activations.Derivative(aux[e], g.Activation);

    /// <summary>
    /// GPU: sums[c] = Σ over images and pixels of values[b, c, pixel] (a transposed conv's bias gradient): one
    /// group per channel, a strided share per thread, a fixed tree.
    /// </summary>
    public static void ChannelSumsGpu(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums)
    {
        int c = Grid.IdxX, pixels = g.ImagePixels;
        double part = 0;
        for (int i = Group.IdxX; i < g.Batch * pixels; i += Group.DimX)
        {
            int b = i / pixels;
            part += values[g.ImageIndex(b, c, i - b * pixels)];
        }
        double sum = GroupReductions.Sum(part, SharedScratch.ForReduction());
        if (Group.IdxX == 0) sums[c] = (float)sum;
    }

    // ---- CPU accelerator: a band of rows per thread, vector code inside ----------------------------------------

    /// <summary>CPU: this thread's band of col rows.</summary>
    public static void Im2ColCpu(Index1D thread, ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        var (r0, r1) = Partition.Band(thread, g.Items.Threads, g.ColRows);
        if (r0 < r1) ConvolutionRows.Im2Col(g, r0, r1, image, col);
    }

    /// <summary>CPU: this thread's band of image pixels (every channel of each), then the epilogue.</summary>
    public static void Col2ImCpu(Index1D thread, ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        var (p0, p1) = Partition.Band(thread, g.Items.Threads, g.Batch * g.ImagePixels);
        if (p0 < p1) ConvolutionRows.Col2Im(g, p0, p1, col, aux, image);
    }

    /// <summary>CPU: this thread's band of channels of <see cref="ChannelSumsGpu"/>.</summary>
    public static void ChannelSumsCpu(Index1D thread, ConvGeometry g, ArrayView<float> values, ArrayView<float> sums)
    {
        var (c0, c1) = Partition.Band(thread, g.Items.Threads, g.Channels);
        if (c0 < c1) ConvolutionRows.ChannelSums(g, c0, c1, values, sums);
    }
}
