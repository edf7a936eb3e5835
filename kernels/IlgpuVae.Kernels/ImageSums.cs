using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>What <see cref="ImageSums"/> sums: <see cref="Images"/> blocks of <see cref="Pixels"/> rows, <see cref="Width"/> wide.</summary>
public struct ImageSumsProblem
{
    /// <summary>Images, rows (pixels) per image, and columns (channels) per row.</summary>
    public int Images, Pixels, Width;
}

/// <summary>
/// Per-image sums of a channels-last feature map: sums[b, n] = Σ_p values[b·P + p, n] for values [B·P, N], in
/// double. A conditional conv layer adds V·z_b to every pixel of image b, so ∂L/∂V = Sᵀ·z and ∂L/∂z = S·V with S
/// these sums of its dPre. GPUs run <see cref="SumsGpu"/>: a group per image and block of columns, consecutive
/// threads on consecutive columns (coalesced), several lanes of rows per column, the lanes' parts added in lane
/// order, so every launch repeats bit for bit. Only GPUs run it: on the CPU accelerator a masked conv's backward sums
/// its images' dPre as it goes (<see cref="MaskedConvolutions.BackwardCpu"/>).
/// </summary>
public static class ImageSums
{
    /// <summary>Columns one group of <paramref name="groupSize"/> threads sums: all of a row, or as many as it has threads.</summary>
    public static int ColumnsPerGroup(ImageSumsProblem p, int groupSize) => p.Width < groupSize ? p.Width : groupSize;

    /// <summary>Groups of a launch: one per image and block of <see cref="ColumnsPerGroup"/> columns.</summary>
    public static int Groups(ImageSumsProblem p, int groupSize) =>
        p.Images * GemmProblem.DivUp(p.Width, ColumnsPerGroup(p, groupSize));

    /// <summary>
    /// GPU: group g sums image g / blocks, columns of block g mod blocks. Thread t takes column t mod cols and every
    /// lanes-th row from lane t / cols (lanes = threads / cols); the first cols threads then add their column's lanes.
    /// </summary>
    public static void SumsGpu(ImageSumsProblem p, ArrayView<float> values, ArrayView<float> sums)
    {
        int threads = Group.DimX, t = Group.IdxX;
        int cols = ColumnsPerGroup(p, threads), lanes = threads / cols, blocks = GemmProblem.DivUp(p.Width, cols);
        int b = Grid.IdxX / blocks, n = Grid.IdxX % blocks * cols + t % cols, lane = t / cols;
        double part = 0;
        // The threads past lanes·cols (when cols does not divide the group) take no rows.
        if (lane < lanes && n < p.Width)
            for (int q = lane; q < p.Pixels; q += lanes)
                part += values[(b * p.Pixels + q) * p.Width + n];
        var scratch = SharedScratch.ForReduction();
        scratch[t] = part;
        Group.Barrier();
        if (t < cols && n < p.Width)
        {
            double sum = 0;
            for (int l = 0; l < lanes; l++)
                sum += scratch[t + l * cols];
            sums[b * p.Width + n] = (float)sum;
        }
    }
}
