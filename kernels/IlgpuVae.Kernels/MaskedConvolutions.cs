using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// A PixelCNN's masked conditional conv (<see cref="MaskedConvolutions"/>): a square odd kernel K, stride 1, "same"
/// padding r = (K − 1)/2, the weight kept as [K, K, Ci, Co] and read only at its first <see cref="Taps"/> taps in raster
/// order, (K² + 1)/2 — every tap before the centre and the centre, the only ones a mask can leave (a type-A centre is
/// held at zero by its mask). The input and output are NCHW or NHWC, as their strides say.
/// </summary>
public struct MaskedConvProblem
{
    /// <summary>Images, their height and width, input and output channels, the kernel's side and its live taps.</summary>
    public int Batch, Height, Width, InChannels, OutChannels, Kernel, Taps;
    /// <summary>The context z's width: V·z + b is added per image and output channel (V [Co, Z], b [Co]).</summary>
    public int ContextWidth;
    /// <summary>Elements between neighbouring channels and neighbouring pixels of the input, and of the output.</summary>
    public int InChannelStride, InPixelStride, OutChannelStride, OutPixelStride;
    /// <summary>Forward: the activation applied. Backward: the input's activation, whose derivative (from its output) multiplies dX.</summary>
    public int Activation;
    /// <summary>Backward: 1 where the input's gradient is written, 0 where it is not wanted.</summary>
    public int InputGradient;
    /// <summary>CPU: the launch's threads (each a band of images, and of the weight gradient's rows).</summary>
    public int Threads;
    /// <summary>GPU: the grid-stride launch's items and threads.</summary>
    public Partition Items;

    /// <summary>The live taps of a K×K kernel: the centre and every tap before it in raster order.</summary>
    public static int LiveTaps(int kernel) => kernel * kernel / 2 + 1;

    /// <summary>The padding r, and the pixels of an image.</summary>
    public readonly int Radius => Kernel / 2;
    /// <inheritdoc cref="Radius"/>
    public readonly int Pixels => Height * Width;
    /// <summary>Rows of the weight [K·K·Ci, Co], and the live ones, Taps·Ci, that the sums read.</summary>
    public readonly int WeightRows => Kernel * Kernel * InChannels;
    /// <inheritdoc cref="WeightRows"/>
    public readonly int LiveRows => Taps * InChannels;
    /// <summary>Elements of the input and of the output.</summary>
    public readonly int InputSize => Batch * InChannels * Pixels;
    /// <inheritdoc cref="InputSize"/>
    public readonly int OutputSize => Batch * OutChannels * Pixels;

    /// <summary>Element (b, c, pixel) of the input.</summary>
    public readonly int InputIndex(int b, int c, int pixel) => b * InChannels * Pixels + c * InChannelStride + pixel * InPixelStride;
    /// <summary>Element (b, o, pixel) of the output.</summary>
    public readonly int OutputIndex(int b, int o, int pixel) => b * OutChannels * Pixels + o * OutChannelStride + pixel * OutPixelStride;
}

/// <summary>
/// The masked conv of <see cref="MaskedConvProblem"/> without column matrices: its products read the input (or, for the
/// input's gradient, dPre) where the live taps land, so nothing the size of taps × pixels is written or read back.
///   forward:  y[b, p, o] = act(Σ_{t &lt; Taps, c} x[b, c, p + tap t]·W[t, c, o] + Σ_z z[b, z]·V[o, z] + bias[o])
///   backward: dW[t, c, o] = M[t, c, o] ≠ 0 ? Σ_{b, p} x[b, c, p + tap t]·dPre[b, p, o] : 0 (the rows t ≥ Taps +0);
///             sums[b, o] = Σ_p dPre[b, p, o] (the context term's gradient, <c>ContextBackward</c> turns it into dV, dz, db);
///             dX[b, c, q] = act'(x[b, c, q])·Σ_{t &lt; Taps, o} dPre[b, q − tap t, o]·W[t, c, o] (taps falling outside: none)
/// with tap t = (ky, kx) = (t / K, t mod K) displacing a pixel by (ky − r, kx − r). GPUs run one output element per
/// thread, and the weight gradient a group per weight row with its pixels' partial sums added in lane order; the
/// image sums there are <see cref="ImageSums.SumsGpu"/>. The CPU accelerator runs a band of images per hardware thread
/// as vector code (<see cref="MaskedConvRows"/>), the backward in one launch with the image sums folded in.
/// </summary>
public static class MaskedConvolutions
{
    // ---- GPU: one element per thread in turn ---------------------------------------------------------------

    /// <summary>GPU: y, element by element in NHWC order (neighbouring threads on neighbouring output channels).</summary>
    public static void ForwardGpu(Index1D thread, MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight,
        ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        var s = p.Items;
        int co = p.OutChannels, ci = p.InChannels, pixels = p.Pixels, r = p.Radius;
        foreach (int e in s.Of(thread))
        {
            int o = e % co, rest = e / co, q = rest % pixels, b = rest / pixels;
            int py = q / p.Width, px = q - py * p.Width;
            float acc = 0f;
            for (int t = 0; t < p.Taps; t++)
            {
                int ky = t / p.Kernel, iy = py + ky - r, ix = px + t - ky * p.Kernel - r;
                // Taps reach rows up to the pixel's own: only the top and the sides can fall outside.
                if (iy < 0 || ix < 0 || ix >= p.Width) continue;
                for (int c = 0; c < ci; c++)
                    acc += x[p.InputIndex(b, c, iy * p.Width + ix)] * weight[(t * ci + c) * co + o];
            }
            y[p.OutputIndex(b, o, q)] = Activations.Forward(acc + ContextTerm(p, b, o, context, contextWeight, bias), p.Activation);
        }
    }

    /// <summary>bias[o] + Σ_z z[b, z]·V[o, z], in z order.</summary>
    public static float ContextTerm(MaskedConvProblem p, int b, int o, ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias)
    {
        float sum = bias[o];
        for (int z = 0; z < p.ContextWidth; z++)
            sum += context[b * p.ContextWidth + z] * contextWeight[o * p.ContextWidth + z];
        return sum;
    }

    /// <summary>Output channels one group of <paramref name="groupSize"/> threads covers: all, or as many as it has threads.</summary>
    public static int ColumnsPerGroup(MaskedConvProblem p, int groupSize) => p.OutChannels < groupSize ? p.OutChannels : groupSize;

    /// <summary>Groups of a weight-gradient launch: one per weight row (t, c) and block of <see cref="ColumnsPerGroup"/> output channels.</summary>
    public static int WeightGradientGroups(MaskedConvProblem p, int groupSize) =>
        p.WeightRows * GemmProblem.DivUp(p.OutChannels, ColumnsPerGroup(p, groupSize));

    /// <summary>
    /// GPU: group g writes weight row g / blocks, output channels of block g mod blocks. Thread t takes channel t mod cols and
    /// every lanes-th pixel of the batch from lane t / cols; the first cols threads add their channel's lanes in order.
    /// </summary>
    public static void WeightGradientGpu(MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> mask, ArrayView<float> dWeight)
    {
        int threads = Group.DimX, t = Group.IdxX;
        int cols = ColumnsPerGroup(p, threads), lanes = threads / cols, blocks = GemmProblem.DivUp(p.OutChannels, cols);
        int row = Grid.IdxX / blocks, o = Grid.IdxX % blocks * cols + t % cols, lane = t / cols;
        int tap = row / p.InChannels, c = row - tap * p.InChannels, ky = tap / p.Kernel, kx = tap - ky * p.Kernel, r = p.Radius;
        int pixels = p.Pixels;
        float part = 0f;
        // Rows past the live taps are masked everywhere: no sum. The threads past lanes·cols take no pixels.
        if (tap < p.Taps && lane < lanes && o < p.OutChannels)
            for (int i = lane; i < p.Batch * pixels; i += lanes)
            {
                int b = i / pixels, q = i - b * pixels, py = q / p.Width, px = q - py * p.Width;
                int iy = py + ky - r, ix = px + kx - r;
                if (iy >= 0 && ix >= 0 && ix < p.Width)
                    part += x[p.InputIndex(b, c, iy * p.Width + ix)] * dPre[p.OutputIndex(b, o, q)];
            }
        var scratch = SharedScratch.ForReduction();
        scratch[t] = part;
        Group.Barrier();
        if (t < cols && o < p.OutChannels)
        {
            double sum = 0;
            for (int l = 0; l < lanes; l++)
                sum += scratch[t + l * cols];
            int e = row * p.OutChannels + o;
            dWeight[e] = mask[e] != 0f ? (float)sum : 0f;
        }
    }

    /// <summary>GPU: dX, element by element in the input's memory order, times the input activation's derivative.</summary>
    public static void InputGradientGpu(Index1D thread, MaskedConvProblem p, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> x, ArrayView<float> dX)
    {
        var s = p.Items;
        int co = p.OutChannels, ci = p.InChannels, pixels = p.Pixels, r = p.Radius;
        bool channelsLast = p.InChannelStride == 1;
        foreach (int e in s.Of(thread))
        {
            int b = e / (ci * pixels), rest = e - b * ci * pixels;
            int c = channelsLast ? rest % ci : rest / pixels, q = channelsLast ? rest / ci : rest % pixels;
            int iy = q / p.Width, ix = q - iy * p.Width;
            float acc = 0f;
            for (int t = 0; t < p.Taps; t++)
            {
                // The output pixel whose tap t lands here: at or below this row.
                int ky = t / p.Kernel, py = iy - ky + r, px = ix - (t - ky * p.Kernel) + r;
                if (py >= p.Height || px < 0 || px >= p.Width) continue;
                for (int o = 0; o < co; o++)
                    acc += dPre[p.OutputIndex(b, o, py * p.Width + px)] * weight[(t * ci + c) * co + o];
            }
            dX[e] = p.Activation == (int)Kernels.Activation.Identity ? acc : acc * Activations.Derivative(x[e], p.Activation);
        }
    }

    // ---- CPU accelerator: a band of images per thread, vector code inside ---------------------------------------

    /// <summary>CPU: this thread's band of images (<see cref="MaskedConvRows.Forward"/>).</summary>
    public static void ForwardCpu(Index1D thread, MaskedConvProblem p, ArrayView<float> x, ArrayView<float> weight,
        ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        var (b0, b1) = Partition.Band(thread, p.Threads, p.Batch);
        if (b0 < b1) MaskedConvRows.Forward(p, b0, b1, x, weight, context, contextWeight, bias, y);
    }

    /// <summary>CPU: this thread's share of the weight gradient's rows, then its band of images' sums and input gradient (<see cref="MaskedConvRows.Backward"/>).</summary>
    public static void BackwardCpu(Index1D thread, MaskedConvProblem p, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX) =>
        MaskedConvRows.Backward(p, thread, x, dPre, weight, mask, dWeight, sums, dX);
}
