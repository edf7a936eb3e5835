using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// MMD² and its gradient on GPUs (the formulas are in <see cref="Divergences"/>): one group per block of
/// <c>block</c> rows of the stacked set [z; p] — the launch's own code rows' blocks first (<see cref="MmdProblem.OwnFirst"/>),
/// then prior blocks — walking the columns
/// the rows pair with in tiles of <c>block</c>: a code row with every code (the within-set sum) and every prior
/// draw (the cross sum), a prior row with every prior draw. Per tile the group stages the column rows in shared
/// memory, computes the block² kernel values and slopes in double, then each row's thread adds its row of
/// values in column order (the order <see cref="Divergences.MmdCpu"/> uses) and the threads of a row's
/// gradient elements add Σ_c slope·(zᵢ − y_c). A code row's finished dz feeds the reparameterization's
/// backward in the same launch.
/// Shared memory, all double: the block's rows [block·k], the tile's rows [block·k], the tile's values and
/// slopes [block² each] and the gradient sums [block·k] — <see cref="SharedDoubles"/>.
/// </summary>
public static class MmdTiles
{
    /// <summary>Doubles of shared memory (of <see cref="SharedScratch.MmdDoubles"/>) for blocks of <paramref name="block"/> rows and <paramref name="latent"/> dimensions.</summary>
    public static long SharedDoubles(int block, int latent) => 3L * block * latent + 2L * block * block;

    /// <summary>Blocks of rows in the launch: ⌈OwnRows/block⌉ code blocks then ⌈M/block⌉ prior blocks (none when skipped).</summary>
    public static int Groups(MmdProblem p, int block) =>
        GemmProblem.DivUp(p.OwnRows, block) + (p.SkipPrior != 0 ? 0 : GemmProblem.DivUp(p.M, block));

    /// <summary>
    /// One group per block of rows of [z; p]: the rows' kernel sums into rowTerms and, when asked, dz and the
    /// reparameterization's backward into dHeads, as <see cref="Divergences"/> defines them.
    /// </summary>
    public static void RunGpu(MmdProblem p, int block,
        ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads, ArrayView<float> eps,
        ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        int k = p.Latent, tid = Group.IdxX, threads = Group.DimX;
        int codeBlocks = GemmProblem.DivUp(p.OwnRows, block);
        bool code = Grid.IdxX < codeBlocks;
        // A code block's rows are the launch's own, from OwnFirst; its columns are every code and prior draw.
        int first = code ? p.OwnFirst + Grid.IdxX * block : (Grid.IdxX - codeBlocks) * block;
        int setSize = code ? p.B : p.M, end = code ? p.OwnFirst + p.OwnRows : p.M;
        int count = end - first < block ? end - first : block;
        var rowsOf = code ? z : prior;

        var shared = SharedScratch.ForMmd();
        int rowValues = block * k, pairs = block * block;
        var x = shared.SubView(0, rowValues);
        var y = shared.SubView(rowValues, rowValues);
        var values = shared.SubView(2 * rowValues, pairs);
        var slopes = shared.SubView(2 * rowValues + pairs, pairs);
        var gradient = shared.SubView(2 * rowValues + 2 * pairs, rowValues);
        for (int e = tid; e < rowValues; e += threads)
        {
            x[e] = e / k < count ? rowsOf[first * k + e] : 0.0;
            gradient[e] = 0.0;
        }

        bool grad = code && p.GradScale != 0f;
        double withinDivisor = Divergences.WithinSetDivisor(setSize, p.Unbiased), crossDivisor = (double)p.B * p.M;
        double within = 0, cross = 0;
        for (int phase = 0; phase < (code ? 2 : 1); phase++)
        {
            bool sameSet = phase == 0;
            var columnsOf = sameSet ? rowsOf : prior;
            int columns = sameSet ? setSize : p.M;
            // Each pair (i, j) of the within-set sum appears twice (as i,j and j,i): hence the 2.
            double weight = sameSet ? 2.0 / withinDivisor : -2.0 / crossDivisor;
            for (int c0 = 0; c0 < columns; c0 += block)
            {
                int tileCount = columns - c0 < block ? columns - c0 : block;
                Group.Barrier(); // the previous tile is no longer read
                for (int e = tid; e < rowValues; e += threads)
                    y[e] = e / k < tileCount ? columnsOf[c0 * k + e] : 0.0;
                Group.Barrier();
                for (int q = tid; q < pairs; q += threads)
                {
                    int r = q / block, c = q - r * block;
                    // The U-statistic leaves out i = j; the V-statistic keeps it, where d² = 0 gives k = 1, slope·0 = 0.
                    bool pair = r < count && c < tileCount && !(sameSet && p.Unbiased != 0 && first + r == c0 + c);
                    double value = 0, slope = 0;
                    if (pair)
                    {
                        double d2 = 0;
                        for (int t = 0; t < k; t++)
                        {
                            double d = x[r * k + t] - y[c * k + t];
                            d2 += d * d;
                        }
                        value = Divergences.KernelOfSquaredDistance(d2, p, out slope);
                    }
                    values[q] = value;
                    slopes[q] = slope * weight;
                }
                Group.Barrier();
                if (tid < count)
                {
                    double sum = 0;
                    for (int c = 0; c < tileCount; c++) sum += values[tid * block + c];
                    if (sameSet) within += sum;
                    else cross += sum;
                }
                if (grad)
                    for (int e = tid; e < count * k; e += threads)
                    {
                        int r = e / k, t = e - r * k;
                        double g = 0;
                        for (int c = 0; c < tileCount; c++) g += slopes[r * block + c] * (x[e] - y[c * k + t]);
                        gradient[e] += g;
                    }
            }
        }
        Group.Barrier();

        if (tid < count)
            rowTerms[(code ? 0 : p.B) + first + tid] = code ? within / withinDivisor - 2.0 * cross / crossDivisor : within / withinDivisor;
        if (!code) return;
        for (int e = tid; e < count * k; e += threads)
        {
            // dz, heads, ε and dHeads hold the own rows only.
            int i = (first - p.OwnFirst) * k + e;
            float total = dz[i];
            if (grad)
            {
                total += (float)(p.GradScale * gradient[e]);
                dz[i] = total;
            }
            if (p.Backward != 0) Reparameterize.BackwardElement(i, k, p.KlGradScale, 0, total, heads, eps, dHeads);
        }
    }
}
