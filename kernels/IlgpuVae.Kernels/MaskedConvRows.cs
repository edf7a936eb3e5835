using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's bodies of <see cref="MaskedConvolutions"/>' band kernels: plain .NET code behind ILGPU's
/// <c>[External]</c> (see <see cref="SimdGemm"/>), at the widest vectors the processor runs at full speed
/// (<see cref="MaskedConvBands{V, R}"/>), with the helpers every width shares: a thread's scratch, the padded copies of
/// an image the tiles read, and the epilogues. The host has checked the views' sizes: nothing is checked here.
/// </summary>
static class MaskedConvRows
{
    [External("ilgpuvae_masked_conv_forward")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(MaskedConvProblem p, int b0, int b1, ArrayView<float> x, ArrayView<float> weight,
        ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> y)
    {
        ref float z = ref First(context), v = ref First(contextWeight);
        if (Lanes512.Preferred) MaskedConvBands<Lanes512, Eight>.Forward(p, b0, b1, ref x[0], ref weight[0], ref z, ref v, ref bias[0], ref y[0]);
        else if (SimdGemm.EightRowTiles) MaskedConvBands<VectorLanes, Eight>.Forward(p, b0, b1, ref x[0], ref weight[0], ref z, ref v, ref bias[0], ref y[0]);
        else MaskedConvBands<VectorLanes, Four>.Forward(p, b0, b1, ref x[0], ref weight[0], ref z, ref v, ref bias[0], ref y[0]);
    }

    [External("ilgpuvae_masked_conv_backward")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(MaskedConvProblem p, int thread, ArrayView<float> x, ArrayView<float> dPre, ArrayView<float> weight,
        ArrayView<float> mask, ArrayView<float> dWeight, ArrayView<float> sums, ArrayView<float> dX)
    {
        ref float dx = ref First(dX);
        if (Lanes512.Preferred) MaskedConvBands<Lanes512, Eight>.Backward(p, thread, ref x[0], ref dPre[0], ref weight[0], ref mask[0], ref dWeight[0], ref sums[0], ref dx);
        else if (SimdGemm.EightRowTiles) MaskedConvBands<VectorLanes, Eight>.Backward(p, thread, ref x[0], ref dPre[0], ref weight[0], ref mask[0], ref dWeight[0], ref sums[0], ref dx);
        else MaskedConvBands<VectorLanes, Four>.Backward(p, thread, ref x[0], ref dPre[0], ref weight[0], ref mask[0], ref dWeight[0], ref sums[0], ref dx);
    }

    static ref float First(ArrayView<float> view) => ref view.Length > 0 ? ref view[0] : ref Unsafe.NullRef<float>();

    static ref float At(ref float r, int i) => ref Unsafe.Add(ref r, i);

    // ---- a thread's scratch ---------------------------------------------------------------------------------

    /// <summary>Each thread's scratch, grown to the largest launch it has run and kept (a step allocates nothing).</summary>
    [ThreadStatic] static float[]? floats;
    [ThreadStatic] static int[]? ints;

    /// <summary>This thread's scratch of at least <paramref name="length"/> floats (not cleared).</summary>
    public static Span<float> Floats(int length)
    {
        if (floats is null || floats.Length < length) floats = new float[length];
        return floats.AsSpan(0, length);
    }

    /// <summary>This thread's scratch of at least <paramref name="length"/> ints (not cleared).</summary>
    public static Span<int> Ints(int length)
    {
        if (ints is null || ints.Length < length) ints = new int[length];
        return ints.AsSpan(0, length);
    }

    /// <summary><paramref name="length"/> rounded up to a multiple of <paramref name="step"/>.</summary>
    public static int RoundUp(int length, int step) => (length + step - 1) / step * step;

    // ---- padded images ----------------------------------------------------------------------------------------

    /// <summary>
    /// Image b of x, channels last, with r zero rows above and r zero pixels left and right of each row ((H + r) × (W + 2r)
    /// pixels of Ci): the forward's taps and the weight gradient's read it at any pixel with no check. Every element is written.
    /// </summary>
    public static void PadInput(MaskedConvProblem p, int b, ref float x, Span<float> padded)
    {
        int r = p.Radius, ci = p.InChannels, wp = p.Width + 2 * r, edge = r * ci, row = p.Width * ci;
        padded[..(r * wp * ci)].Clear();
        bool contiguous = p.InChannelStride == 1 && p.InPixelStride == ci;
        for (int iy = 0; iy < p.Height; iy++)
        {
            var to = padded.Slice((iy + r) * wp * ci, wp * ci);
            to[..edge].Clear();
            to[(edge + row)..].Clear();
            if (contiguous)
                MemoryMarshal.CreateSpan(ref At(ref x, p.InputIndex(b, 0, iy * p.Width)), row).CopyTo(to.Slice(edge, row));
            else
                for (int ix = 0; ix < p.Width; ix++)
                    for (int c = 0; c < ci; c++)
                        to[edge + ix * ci + c] = At(ref x, p.InputIndex(b, c, iy * p.Width + ix));
        }
    }

    /// <summary>
    /// Image b of dPre, channels last, with r zero pixels left and right of each row and r zero rows below (H + r) × (W + 2r)
    /// pixels of Co): the input gradient's flipped taps read it with no check. Adds each value into <paramref name="sums"/>.
    /// </summary>
    public static void PadOutput(MaskedConvProblem p, int b, ref float dPre, Span<float> padded, Span<double> sums)
    {
        int r = p.Radius, co = p.OutChannels, wp = p.Width + 2 * r, edge = r * co, row = p.Width * co;
        for (int py = 0; py < p.Height; py++)
        {
            var to = padded.Slice(py * wp * co, wp * co);
            to[..edge].Clear();
            to[(edge + row)..].Clear();
            for (int px = 0; px < p.Width; px++)
                CopyPixel(p, b, py * p.Width + px, ref dPre, to.Slice(edge + px * co, co), sums);
        }
        padded.Slice(p.Height * wp * co, r * wp * co).Clear();
    }

    /// <summary>Image b of dPre, channels last, each pixel's row <paramref name="stride"/> ≥ Co wide (zeros after Co).</summary>
    public static void CopyOutput(MaskedConvProblem p, int b, ref float dPre, Span<float> rows, int stride)
    {
        int co = p.OutChannels;
        for (int q = 0; q < p.Pixels; q++)
        {
            var to = rows.Slice(q * stride, stride);
            CopyPixel(p, b, q, ref dPre, to[..co], default);
            to[co..].Clear();
        }
    }

    /// <summary>Image b's sums of dPre over its pixels, without a copy.</summary>
    public static void SumOutput(MaskedConvProblem p, int b, ref float dPre, Span<double> sums)
    {
        for (int q = 0; q < p.Pixels; q++)
            for (int o = 0; o < p.OutChannels; o++)
                sums[o] += At(ref dPre, p.OutputIndex(b, o, q));
    }

    /// <summary>Pixel q of image b of dPre into <paramref name="to"/> (Co values), each added into <paramref name="sums"/> (unless empty), in double.</summary>
    static void CopyPixel(MaskedConvProblem p, int b, int q, ref float dPre, Span<float> to, Span<double> sums)
    {
        int co = p.OutChannels, o = 0;
        bool sum = !sums.IsEmpty;
        if (p.OutChannelStride == 1)
        {
            var from = MemoryMarshal.CreateSpan(ref At(ref dPre, p.OutputIndex(b, 0, q)), co);
            from.CopyTo(to);
            if (!sum) return;
            int w = Vector<float>.Count;
            ref double s = ref MemoryMarshal.GetReference(sums);
            for (; o + w <= co; o += w)
            {
                Vector.Widen(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(from), (nuint)o), out var low, out var high);
                (Vector.LoadUnsafe(ref s, (nuint)o) + low).StoreUnsafe(ref s, (nuint)o);
                (Vector.LoadUnsafe(ref s, (nuint)(o + w / 2)) + high).StoreUnsafe(ref s, (nuint)(o + w / 2));
            }
        }
        for (; o < co; o++)
        {
            float value = At(ref dPre, p.OutputIndex(b, o, q));
            to[o] = value;
            if (sum) sums[o] += value;
        }
    }

    // ---- epilogues ----------------------------------------------------------------------------------------------

    /// <summary>Image b of y = act(s + perImage) from its rows s (each <paramref name="stride"/> wide), in the output's layout.</summary>
    public static void FinishForward(MaskedConvProblem p, int b, Span<float> s, int stride, ReadOnlySpan<float> perImage, ref float y)
    {
        int co = p.OutChannels, activation = p.Activation, w = Vector<float>.Count;
        bool vectors = p.OutChannelStride == 1 && VectorActivations.HasForward(activation);
        ref float bias = ref MemoryMarshal.GetReference(perImage);
        for (int q = 0; q < p.Pixels; q++)
        {
            ref float row = ref s[q * stride];
            int o = 0;
            if (vectors)
                for (; o + w <= co; o += w)
                    VectorActivations.Forward(Vector.LoadUnsafe(ref row, (nuint)o) + Vector.LoadUnsafe(ref bias, (nuint)o), activation)
                        .StoreUnsafe(ref y, (nuint)p.OutputIndex(b, o, q));
            for (; o < co; o++)
                At(ref y, p.OutputIndex(b, o, q)) = Activations.Forward(At(ref row, o) + perImage[o], activation);
        }
    }

    /// <summary>Image b of dX = s ⊙ act'(x) from its rows s (each <paramref name="stride"/> wide), in the input's layout.</summary>
    public static void FinishInputGradient(MaskedConvProblem p, int b, Span<float> s, int stride, ref float x, ref float dX)
    {
        int ci = p.InChannels, activation = p.Activation, w = Vector<float>.Count;
        bool identity = activation == (int)Activation.Identity;
        bool vectors = p.InChannelStride == 1 && VectorActivations.HasDerivative(activation);
        for (int q = 0; q < p.Pixels; q++)
        {
            ref float row = ref s[q * stride];
            int c = 0;
            if (vectors)
                for (; c + w <= ci; c += w)
                {
                    int e = p.InputIndex(b, c, q);
                    (Vector.LoadUnsafe(ref row, (nuint)c) * VectorActivations.Derivative(Vector.LoadUnsafe(ref x, (nuint)e), activation))
                        .StoreUnsafe(ref dX, (nuint)e);
                }
            for (; c < ci; c++)
            {
                int e = p.InputIndex(b, c, q);
                At(ref dX, e) = identity ? At(ref row, c) : At(ref row, c) * Activations.Derivative(At(ref x, e), activation);
            }
        }
    }
}
