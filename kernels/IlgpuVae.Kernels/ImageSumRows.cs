using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;

namespace IlgpuVae.Kernels;

/// <summary>
/// The CPU accelerator's body of <see cref="ImageSums.SumsCpu"/>: plain .NET code behind ILGPU's <c>[External]</c>
/// (see <see cref="SimdGemm"/>). A row's channels are contiguous, so each row is added into the image's sums a
/// vector at a time, widened to double as the GPU kernel sums. The host has checked the views' sizes.
/// </summary>
static class ImageSumRows
{
    [External("ilgpuvae_image_sums")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum(ImageSumsProblem p, int b0, int b1, ArrayView<float> values, ArrayView<float> sums)
    {
        ref float v = ref values[0], s = ref sums[0];
        int width = p.Width, pixels = p.Pixels, w = Vector<float>.Count, vectorEnd = width - width % w;
        Span<double> acc = width <= 1024 ? stackalloc double[width] : new double[width];
        ref double a = ref acc[0];
        for (int b = b0; b < b1; b++)
        {
            acc.Clear();
            for (int q = 0; q < pixels; q++)
            {
                int row = (b * pixels + q) * width, n = 0;
                for (; n < vectorEnd; n += w)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref v, (nuint)(row + n)), out var low, out var high);
                    (Vector.LoadUnsafe(ref a, (nuint)n) + low).StoreUnsafe(ref a, (nuint)n);
                    (Vector.LoadUnsafe(ref a, (nuint)(n + w / 2)) + high).StoreUnsafe(ref a, (nuint)(n + w / 2));
                }
                for (; n < width; n++) Unsafe.Add(ref a, n) += Unsafe.Add(ref v, row + n);
            }
            for (int n = 0; n < width; n++) Unsafe.Add(ref s, b * width + n) = (float)Unsafe.Add(ref a, n);
        }
    }
}
