using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The one product kernel per backend: up to two products C = epilogue(A·B) in one launch (a layer's
/// backward is two, reading the same dPre), each with its own <see cref="GemmProblem"/> — strides, sizes and
/// <see cref="Epilogue"/> — and views; the first may also write its A's row sums (a bias gradient). The dense
/// layers (<see cref="Dense"/>), the convolutions (<see cref="Convolutions"/>) and the masked layers run on it.
/// <c>PairTiled</c> is the GPUs' (<see cref="TiledGemm"/>), <c>PairSimd</c> the CPU accelerator's (<see cref="SimdGemm"/>).
/// </summary>
public static class Products
{
    /// <summary>
    /// GPU: the first <see cref="TiledGemm.Tiles"/>(first) groups compute the first product — and, where rowSums1
    /// is not empty, rowSums1[m] = Σₖ A1(m, k) — the rest the second product, none when second has M = 0.
    /// </summary>
    public static void PairGpu(GemmProblem first, GemmProblem second, int side,
        ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1,
        ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        var shared = SharedScratch.ForProduct(); // one allocation for both branches

        int tile = Grid.IdxX, firstTiles = TiledGemm.Tiles(first, side);
        if (tile < firstTiles)
            TiledGemm.Run(tile, side, first, shared, a1, b1, c1, aux1, rowSums1);
        else
            TiledGemm.Run(tile - firstTiles, side, second, shared, a2, b2, c2, aux2, default);
    }

    /// <summary>
    /// CPU accelerator: threads below first.Threads each take a band of the first product (and rowSums1 of its
    /// rows, summed in the same pass), the rest a band of the second's; second.Threads is 0 for none.
    /// </summary>
    public static void PairCpu(Index1D thread, GemmProblem first, GemmProblem second,
        ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1,
        ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        if (thread < first.Threads)
        {
            var (m0, m1, n0, _) = SimdGemm.Band(thread, first);
            if (m0 >= m1) return;
            SimdGemm.Run(thread, first, a1, b1, c1, aux1);
            // Column bands share every row: the first band sums them.
            if (rowSums1.Length > 0 && n0 == 0) SimdGemm.RowSums(first, m0, m1, a1, rowSums1);
        }
        else
            SimdGemm.Run(thread - first.Threads, second, a2, b2, c2, aux2);
    }
}
