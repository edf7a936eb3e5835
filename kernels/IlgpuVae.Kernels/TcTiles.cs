using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The total-correlation kernels on GPUs (the formulas are in <see cref="TotalCorrelation"/>), shaped like
/// <see cref="MmdTiles"/>: one group per block of <c>block</c> rows (<see cref="RowsGpu"/>) or columns
/// (<see cref="ColumnsGpu"/>), walking the other side in tiles of <c>block</c> staged in shared memory. Per tile the
/// group first sums each pair's k log-densities (the joint Σ_d Lᵢⱼd, which every dimension's gradient needs), then each
/// (row or column, dimension) element's thread walks the tile in index order — the same order on every launch shape.
/// Shared memory, all double, at most <see cref="SharedDoubles"/> of <see cref="SharedScratch.MmdDoubles"/>.
/// </summary>
public static class TcTiles
{
    /// <summary>Doubles of shared memory for blocks of <paramref name="block"/> rows and <paramref name="latent"/> dimensions (the larger of the two kernels').</summary>
    public static long SharedDoubles(int block, int latent) => 7L * block * latent + (long)block * block + 2L * block;

    /// <summary>Groups of a launch over <paramref name="count"/> rows or columns.</summary>
    public static int Groups(int count, int block) => GemmProblem.DivUp(count, block);

    /// <summary>
    /// One group per block of rows: each row's log-sum-exps into lse and its MI, TC and DWKL into rowTerms; with a
    /// gradient, a second walk over the columns adds ∂/∂z into dz.
    /// Shared: the rows' z, the tile's μ, 1/σ² and offsets [block·k each], the running log-sum-exps [2·block·k + 2·block],
    /// the gradient sums [block·k] and the tile's joint sums [block²].
    /// </summary>
    public static void RowsGpu(TcProblem p, int block, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        int k = p.Latent, tid = Group.IdxX, threads = Group.DimX, first = Grid.IdxX * block;
        int count = p.B - first < block ? p.B - first : block, values = block * k;
        var shared = SharedScratch.ForMmd();
        var rows = shared.SubView(0, values);
        var mu = shared.SubView(values, values);
        var inverse = shared.SubView(2 * values, values);
        var offset = shared.SubView(3 * values, values);
        var maxima = shared.SubView(4 * values, values);
        var sums = shared.SubView(5 * values, values);
        var gradient = shared.SubView(6 * values, values);
        var joint = shared.SubView(7 * values, block * block);
        var jointMax = shared.SubView(7 * values + block * block, block);
        var jointSum = shared.SubView(7 * values + block * block + block, block);
        for (int e = tid; e < values; e += threads)
        {
            rows[e] = e / k < count ? z[first * k + e] : 0.0;
            maxima[e] = 0.0;
            sums[e] = 0.0;
            gradient[e] = 0.0;
        }
        for (int r = tid; r < block; r += threads)
        {
            jointMax[r] = 0.0;
            jointSum[r] = 0.0;
        }

        bool grad = p.Gradient;
        // Every barrier sits in the straight-line code of a loop's body, none after a conditional continue: PoCL builds a
        // work-group's loops around the barriers; the first version of this kernel, whose second sweep skipped the last
        // two barriers with a continue, crashed the test process on PoCL (the CPU accelerator ran it correctly).
        for (int sweep = 0; sweep < (grad ? 2 : 1); sweep++)
        {
            for (int c0 = 0; c0 < p.B; c0 += block)
            {
                int tileCount = p.B - c0 < block ? p.B - c0 : block;
                Group.Barrier(); // the previous tile is no longer read
                LoadColumns(c0, tileCount, k, values, heads, mu, inverse, offset);
                Group.Barrier();
                JointSums(block, count, tileCount, k, rows, mu, inverse, offset, joint, rowsFirst: true);
                Group.Barrier();
                if (sweep == 0) AccumulateTile(block, count, tileCount, k, rows, mu, inverse, offset, joint, maxima, sums, jointMax, jointSum);
                else
                    GradientTile(p, block, first, c0, count, tileCount, k, rows, mu, inverse, offset, joint, maxima, jointMax, gradient);
            }
            Group.Barrier();
            // The running (max, sum) become log-sum-exps in place; the gradient's walk reads them.
            for (int e = tid; sweep == 0 && e < count * k; e += threads)
            {
                maxima[e] += DeviceMath.Log(sums[e]);
                lse[(first + e / k) * (k + 1) + 1 + e % k] = maxima[e];
            }
            for (int r = tid; sweep == 0 && r < count; r += threads)
            {
                jointMax[r] += DeviceMath.Log(jointSum[r]);
                lse[(first + r) * (k + 1)] = jointMax[r];
            }
            Group.Barrier();
            for (int r = tid; sweep == 0 && r < count; r += threads)
            {
                double marginal = 0;
                for (int t = 0; t < k; t++) marginal += maxima[r * k + t];
                double own = TotalCorrelation.OwnLogDensity(first + r, k, z, heads, out double logPrior);
                TotalCorrelation.WriteRowTerms(p, first + r, jointMax[r], marginal, own, logPrior, rowTerms);
            }
        }
        if (!grad) return;
        for (int e = tid; e < count * k; e += threads)
            dz[first * k + e] += (float)(gradient[e] + p.DwklWeight * rows[e]);
    }

    /// <summary>
    /// One group per block of columns (posteriors): dHeads += Σᵢ Cᵢⱼd·∂Lᵢⱼd/∂μⱼd and ∂Lᵢⱼd/∂log σ²ⱼd over every row, reading
    /// the rows' log-sum-exps that <see cref="RowsGpu"/> wrote.
    /// Shared: the block's μ, 1/σ², offsets and two gradient sums [block·k each], the tile's z and per-dimension
    /// log-sum-exps [block·k each], its joint log-sum-exps [block] and joint sums [block²].
    /// </summary>
    public static void ColumnsGpu(TcProblem p, int block, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads)
    {
        int k = p.Latent, tid = Group.IdxX, threads = Group.DimX, first = Grid.IdxX * block;
        int count = p.B - first < block ? p.B - first : block, values = block * k;
        var shared = SharedScratch.ForMmd();
        var mu = shared.SubView(0, values);
        var inverse = shared.SubView(values, values);
        var offset = shared.SubView(2 * values, values);
        var gradMu = shared.SubView(3 * values, values);
        var gradLogVar = shared.SubView(4 * values, values);
        var rows = shared.SubView(5 * values, values);
        var rowLse = shared.SubView(6 * values, values);
        var joint = shared.SubView(7 * values, block * block);
        var rowJointLse = shared.SubView(7 * values + block * block, block);
        LoadColumns(first, count, k, values, heads, mu, inverse, offset);
        for (int e = tid; e < values; e += threads)
        {
            gradMu[e] = 0.0;
            gradLogVar[e] = 0.0;
        }

        double jointWeight = p.JointWeight, marginalWeight = p.MarginalWeight;
        for (int r0 = 0; r0 < p.B; r0 += block)
        {
            int tileCount = p.B - r0 < block ? p.B - r0 : block;
            Group.Barrier(); // the previous tile is no longer read
            for (int e = tid; e < values; e += threads)
            {
                bool valid = e / k < tileCount;
                int r = r0 + e / k, t = e % k;
                rows[e] = valid ? z[r * k + t] : 0.0;
                rowLse[e] = valid ? lse[r * (k + 1) + 1 + t] : 0.0;
            }
            for (int r = tid; r < block; r += threads) rowJointLse[r] = r < tileCount ? lse[(r0 + r) * (k + 1)] : 0.0;
            Group.Barrier();
            JointSums(block, count, tileCount, k, rows, mu, inverse, offset, joint, rowsFirst: false);
            Group.Barrier();
            for (int e = tid; e < count * k; e += threads)
            {
                int c = e / k, t = e - c * k;
                double gMu = 0, gLogVar = 0;
                for (int r = 0; r < tileCount; r++)
                {
                    double d = rows[r * k + t] - mu[e];
                    double l = offset[e] - 0.5 * d * d * inverse[e];
                    double weight = jointWeight * DeviceMath.Exp(joint[c * block + r] - rowJointLse[r])
                        + marginalWeight * DeviceMath.Exp(l - rowLse[r * k + t]) + (r0 + r == first + c ? p.MiWeight : 0.0);
                    gMu += weight * d * inverse[e];
                    gLogVar += weight * 0.5 * (d * d * inverse[e] - 1.0);
                }
                gradMu[e] += gMu;
                gradLogVar[e] += gLogVar;
            }
        }
        for (int e = tid; e < count * k; e += threads)
        {
            int c = e / k, t = e - c * k, at = (first + c) * 2 * k + t;
            dHeads[at] += (float)gradMu[e];
            dHeads[at + k] += (float)gradLogVar[e];
        }
    }

    /// <summary>The first sweep over a tile: each (row, dimension)'s and each row's joint running log-sum-exp.</summary>
    static void AccumulateTile(int block, int count, int tileCount, int k, ArrayView<double> rows, ArrayView<double> mu, ArrayView<double> inverse,
        ArrayView<double> offset, ArrayView<double> joint, ArrayView<double> maxima, ArrayView<double> sums, ArrayView<double> jointMax, ArrayView<double> jointSum)
    {
        for (int e = Group.IdxX; e < count * k; e += Group.DimX)
        {
            int t = e % k;
            double max = maxima[e], sum = sums[e];
            for (int c = 0; c < tileCount; c++)
                TotalCorrelation.Accumulate(TotalCorrelation.LogDensity(rows[e], mu[c * k + t], inverse[c * k + t], offset[c * k + t]), ref max, ref sum);
            maxima[e] = max;
            sums[e] = sum;
        }
        for (int r = Group.IdxX; r < count; r += Group.DimX)
        {
            double max = jointMax[r], sum = jointSum[r];
            for (int c = 0; c < tileCount; c++) TotalCorrelation.Accumulate(joint[r * block + c], ref max, ref sum);
            jointMax[r] = max;
            jointSum[r] = sum;
        }
    }

    /// <summary>The second sweep over a tile: each (row, dimension)'s share of ∂/∂z, from the finished log-sum-exps.</summary>
    static void GradientTile(TcProblem p, int block, int first, int c0, int count, int tileCount, int k, ArrayView<double> rows, ArrayView<double> mu,
        ArrayView<double> inverse, ArrayView<double> offset, ArrayView<double> joint, ArrayView<double> lse, ArrayView<double> jointLse, ArrayView<double> gradient)
    {
        double jointWeight = p.JointWeight, marginalWeight = p.MarginalWeight;
        for (int e = Group.IdxX; e < count * k; e += Group.DimX)
        {
            int r = e / k, t = e - r * k;
            double g = 0;
            for (int c = 0; c < tileCount; c++)
            {
                double l = TotalCorrelation.LogDensity(rows[e], mu[c * k + t], inverse[c * k + t], offset[c * k + t]);
                double weight = jointWeight * DeviceMath.Exp(joint[r * block + c] - jointLse[r])
                    + marginalWeight * DeviceMath.Exp(l - lse[e]) + (first + r == c0 + c ? p.MiWeight : 0.0);
                g -= weight * (rows[e] - mu[c * k + t]) * inverse[c * k + t];
            }
            gradient[e] += g;
        }
    }

    /// <summary>μ, 1/σ² and −½(log 2π + log σ²) of posteriors first … first + count − 1 into the block's arrays (zeros past count).</summary>
    static void LoadColumns(int first, int count, int k, int values, ArrayView<float> heads,
        ArrayView<double> mu, ArrayView<double> inverse, ArrayView<double> offset)
    {
        for (int e = Group.IdxX; e < values; e += Group.DimX)
        {
            bool valid = e / k < count;
            int at = (first + e / k) * 2 * k + e % k;
            double logVar = valid ? heads[at + k] : 0.0;
            mu[e] = valid ? heads[at] : 0.0;
            inverse[e] = valid ? DeviceMath.Exp(-logVar) : 0.0;
            offset[e] = valid ? TotalCorrelation.Offset(logVar) : 0.0;
        }
    }

    /// <summary>
    /// joint[a·block + b] = Σ_d L over the k dimensions for each pair of the block (a) and the tile (b): rows against
    /// columns (<paramref name="rowsFirst"/>: the block is rows) or columns against rows. Pairs past either count get 0.
    /// </summary>
    static void JointSums(int block, int count, int tileCount, int k, ArrayView<double> rows,
        ArrayView<double> mu, ArrayView<double> inverse, ArrayView<double> offset, ArrayView<double> joint, bool rowsFirst)
    {
        for (int q = Group.IdxX; q < block * block; q += Group.DimX)
        {
            int a = q / block, b = q - a * block;
            double sum = 0;
            if (a < count && b < tileCount)
            {
                int r = rowsFirst ? a : b, c = rowsFirst ? b : a;
                for (int t = 0; t < k; t++)
                    sum += TotalCorrelation.LogDensity(rows[r * k + t], mu[c * k + t], inverse[c * k + t], offset[c * k + t]);
            }
            joint[q] = sum;
        }
    }
}
