using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels;

/// <summary>
/// One CPU thread's share of a masked conv (<see cref="MaskedConvolutions"/>), with tiles of <typeparamref name="R"/> rows ×
/// two vectors of <typeparamref name="V"/> (<see cref="MaskedConvTiles{V, R}"/>). Each image is first copied into the
/// thread's scratch with zero padding (<see cref="MaskedConvRows.PadInput"/>), so a tap's values for a run of a kernel
/// row's live taps are one contiguous run of floats: the forward's tiles are R pixels of an image, their k the live
/// taps' channels run by run; the input gradient's are the same with the kernel flipped over dPre padded below
/// (<see cref="MaskedConvRows.PadOutput"/>), which also sums each image's dPre for the context's gradient; the weight
/// gradient's tiles are R of its rows (tap, channel), their k every pixel of the batch. Columns — output channels, or
/// the input gradient's input channels — come in panels of two vectors, the last perhaps one, zero-padded past the
/// real ones. Every sum runs in a fixed order whatever the thread count, so a launch repeats bit for bit.
/// </summary>
static class MaskedConvBands<V, R> where V : struct, ILanes<V> where R : struct, ICount
{
    static int W => V.Count;

    static ref float At(ref float r, int i) => ref Unsafe.Add(ref r, i);

    /// <summary>Where pixel q's window starts in a padded image of <paramref name="channels"/> per pixel.</summary>
    static int PixelOffset(MaskedConvProblem p, int q, int channels) => (q / p.Width * (p.Width + 2 * p.Radius) + q % p.Width) * channels;

    /// <summary>A tile's R row offsets for pixels q0 …, the pixels past the last repeating it (their rows are never read).</summary>
    static void TileOffsets(MaskedConvProblem p, int q0, int channels, Span<int> offsets)
    {
        for (int i = 0; i < R.Value; i++) offsets[i] = PixelOffset(p, Math.Min(q0 + i, p.Pixels - 1), channels);
    }

    /// <summary>c = Conv over the runs for columns [0, stride) in panels of two vectors, the last perhaps one.</summary>
    static void ConvPanels(ref float a, Span<int> offsets, Span<int> runs, ref float b, int ldb, ref float c, int stride)
    {
        for (int n = 0; n < stride; n += 2 * W)
        {
            if (stride - n >= 2 * W)
                MaskedConvTiles<V, R>.Conv<Two>(ref a, ref offsets[0], ref runs[0], runs.Length / 2, ref At(ref b, n), ldb, ref At(ref c, n), stride);
            else
                MaskedConvTiles<V, R>.Conv<One>(ref a, ref offsets[0], ref runs[0], runs.Length / 2, ref At(ref b, n), ldb, ref At(ref c, n), stride);
        }
    }

    // ---- forward ------------------------------------------------------------------------------------------------

    public static void Forward(MaskedConvProblem p, int b0, int b1, ref float x, ref float weight, ref float context, ref float contextWeight,
        ref float bias, ref float y)
    {
        int r = p.Radius, k = p.Kernel, ci = p.InChannels, co = p.OutChannels, wp = p.Width + 2 * r;
        int stride = MaskedConvRows.RoundUp(co, W), tiles = (p.Pixels + R.Value - 1) / R.Value;
        int padded = (p.Height + r) * wp * ci, rows = tiles * R.Value * stride, packed = stride == co ? 0 : p.LiveRows * stride;
        var scratch = MaskedConvRows.Floats(padded + rows + packed + co);
        Span<float> image = scratch[..padded], output = scratch.Slice(padded, rows), perImage = scratch.Slice(padded + rows + packed, co);
        // The weight's live rows [Taps·Ci, Co] as they are, or with their columns zero-padded to whole vectors.
        ref float b = ref weight;
        if (packed > 0)
        {
            var pack = scratch.Slice(padded + rows, packed);
            for (int row = 0; row < p.LiveRows; row++)
                for (int o = 0; o < stride; o++) pack[row * stride + o] = o < co ? At(ref weight, row * co + o) : 0f;
            b = ref pack[0];
        }
        // Kernel row ky's live taps start ky rows down from the window's corner: all K, the centre row's up to the centre.
        Span<int> runs = stackalloc int[2 * (r + 1)], offsets = stackalloc int[R.Value];
        for (int ky = 0; ky <= r; ky++) (runs[2 * ky], runs[2 * ky + 1]) = (ky * wp * ci, (ky < r ? k : p.Taps - r * k) * ci);
        for (int bi = b0; bi < b1; bi++)
        {
            for (int o = 0; o < co; o++)
            {
                float sum = At(ref bias, o);
                for (int z = 0; z < p.ContextWidth; z++)
                    sum += At(ref context, bi * p.ContextWidth + z) * At(ref contextWeight, o * p.ContextWidth + z);
                perImage[o] = sum;
            }
            MaskedConvRows.PadInput(p, bi, ref x, image);
            for (int t = 0; t < tiles; t++)
            {
                TileOffsets(p, t * R.Value, ci, offsets);
                ConvPanels(ref image[0], offsets, runs, ref b, stride, ref output[t * R.Value * stride], stride);
            }
            MaskedConvRows.FinishForward(p, bi, output, stride, perImage, ref y);
        }
    }

    // ---- backward -----------------------------------------------------------------------------------------------

    public static void Backward(MaskedConvProblem p, int thread, ref float x, ref float dPre, ref float weight, ref float mask,
        ref float dWeight, ref float sums, ref float dX)
    {
        WeightGradient(p, thread, ref x, ref dPre, ref mask, ref dWeight);
        var (b0, b1) = Partition.Band(thread, p.Threads, p.Batch);
        if (b0 < b1) SumsAndInputGradient(p, b0, b1, ref x, ref dPre, ref weight, ref sums, ref dX);
    }

    /// <summary>
    /// This thread's share of the weight gradient's (row tile, panel) pairs, each summed over every pixel of the batch,
    /// image by image, then written through the mask; the last thread also writes the rows past the live taps, +0.
    /// </summary>
    static void WeightGradient(MaskedConvProblem p, int thread, ref float x, ref float dPre, ref float mask, ref float dWeight)
    {
        int r = p.Radius, k = p.Kernel, ci = p.InChannels, co = p.OutChannels, wp = p.Width + 2 * r, rows = p.LiveRows;
        if (thread == p.Threads - 1)
            MemoryMarshal.CreateSpan(ref At(ref dWeight, rows * co), (p.WeightRows - rows) * co).Clear();
        int stride = MaskedConvRows.RoundUp(co, W), panels = (stride + 2 * W - 1) / (2 * W), rowTiles = (rows + R.Value - 1) / R.Value;
        var (i0, i1) = Partition.Band(thread, p.Threads, rowTiles * panels);
        if (i0 >= i1) return;
        int items = i1 - i0, block = R.Value * 2 * W;
        // dPre's rows as they are where they are whole vectors, channels last; else copied so.
        bool direct = stride == co && p.OutChannelStride == 1;
        int padded = (p.Height + r) * wp * ci, copy = direct ? 0 : p.Pixels * stride;
        var scratch = MaskedConvRows.Floats(padded + copy + items * block);
        Span<float> image = scratch[..padded], rowsCopy = scratch.Slice(padded, copy), acc = scratch.Slice(padded + copy, items * block);
        acc.Clear();
        // Row m = (tap, c) reads the padded image where its tap lands for the window's corner pixel.
        var offsets = MaskedConvRows.Ints(items * R.Value);
        for (int i = 0; i < items; i++)
            for (int j = 0; j < R.Value; j++)
            {
                int m = Math.Min(((i0 + i) / panels) * R.Value + j, rows - 1), tap = m / ci;
                offsets[i * R.Value + j] = (tap / k * wp + tap % k) * ci + m % ci;
            }
        for (int b = 0; b < p.Batch; b++)
        {
            MaskedConvRows.PadInput(p, b, ref x, image);
            ref float g = ref direct ? ref At(ref dPre, b * p.Pixels * co) : ref rowsCopy[0];
            if (!direct) MaskedConvRows.CopyOutput(p, b, ref dPre, rowsCopy, stride);
            for (int i = 0; i < items; i++)
            {
                int n = (i0 + i) % panels * 2 * W;
                ref float a = ref acc[i * block];
                if (stride - n >= 2 * W)
                    MaskedConvTiles<V, R>.Weight<Two>(ref image[0], ref offsets[i * R.Value], p.Height, p.Width, wp * ci, ci, ref At(ref g, n), stride, ref a, 2 * W);
                else
                    MaskedConvTiles<V, R>.Weight<One>(ref image[0], ref offsets[i * R.Value], p.Height, p.Width, wp * ci, ci, ref At(ref g, n), stride, ref a, 2 * W);
            }
        }
        for (int i = 0; i < items; i++)
        {
            int m0 = (i0 + i) / panels * R.Value, n0 = (i0 + i) % panels * 2 * W;
            for (int j = 0; j < R.Value && m0 + j < rows; j++)
                for (int n = n0; n < Math.Min(co, n0 + 2 * W); n++)
                {
                    int e = (m0 + j) * co + n;
                    At(ref dWeight, e) = At(ref mask, e) != 0f ? acc[i * block + j * 2 * W + n - n0] : 0f;
                }
        }
    }

    /// <summary>
    /// Images [b0, b1): sums[b, o] = Σ_p dPre[b, p, o], and, where it is wanted, dX through the flipped kernel: kernel row
    /// ky' = r − ky reads dPre ky' rows down, its live taps kx' = K − 1 − kx in order, from the centre row's (kx' ≥ K − (r + 1)).
    /// </summary>
    static void SumsAndInputGradient(MaskedConvProblem p, int b0, int b1, ref float x, ref float dPre, ref float weight, ref float sums, ref float dX)
    {
        int r = p.Radius, k = p.Kernel, ci = p.InChannels, co = p.OutChannels, wp = p.Width + 2 * r, centre = p.Taps - r * k;
        Span<double> imageSums = co <= 1024 ? stackalloc double[co] : new double[co];
        if (p.InputGradient == 0)
        {
            for (int b = b0; b < b1; b++)
            {
                imageSums.Clear();
                MaskedConvRows.SumOutput(p, b, ref dPre, imageSums);
                for (int o = 0; o < co; o++) At(ref sums, b * co + o) = (float)imageSums[o];
            }
            return;
        }
        int stride = MaskedConvRows.RoundUp(ci, W), tiles = (p.Pixels + R.Value - 1) / R.Value;
        int padded = (p.Height + r) * wp * co, rows = tiles * R.Value * stride, packed = p.Taps * co * stride;
        var scratch = MaskedConvRows.Floats(padded + rows + packed);
        Span<float> image = scratch[..padded], output = scratch.Slice(padded, rows), pack = scratch.Slice(padded + rows, packed);
        Span<int> runs = stackalloc int[2 * (r + 1)], offsets = stackalloc int[R.Value];
        // The flipped weight, rows (ky', kx', o) in the runs' order, columns the input channels zero-padded to whole vectors.
        int kb = 0;
        for (int flipped = 0; flipped <= r; flipped++)
        {
            int first = flipped == 0 ? k - centre : 0;
            (runs[2 * flipped], runs[2 * flipped + 1]) = ((flipped * wp + first) * co, (k - first) * co);
            for (int kx = k - 1 - first; kx >= 0; kx--)
                for (int o = 0; o < co; o++, kb++)
                    for (int c = 0; c < stride; c++)
                        pack[kb * stride + c] = c < ci ? At(ref weight, (((r - flipped) * k + kx) * ci + c) * co + o) : 0f;
        }
        for (int b = b0; b < b1; b++)
        {
            imageSums.Clear();
            MaskedConvRows.PadOutput(p, b, ref dPre, image, imageSums);
            for (int o = 0; o < co; o++) At(ref sums, b * co + o) = (float)imageSums[o];
            for (int t = 0; t < tiles; t++)
            {
                TileOffsets(p, t * R.Value, co, offsets);
                ConvPanels(ref image[0], offsets, runs, ref pack[0], stride, ref output[t * R.Value * stride], stride);
            }
            MaskedConvRows.FinishInputGradient(p, b, output, stride, ref x, ref dX);
        }
    }
}
