using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The matrix product of <see cref="GemmProblem"/> for GPUs: shared-memory block tiles. A group of
/// <c>side × side</c> threads owns a <c>4·side × 4·side</c> block of C and walks K in slabs of <c>side</c>:
/// the group loads the slab of A [4·side × side] and of B [side × 4·side] into shared memory, each thread
/// four values of each (so the group size, the tile and the slab are one parameter), then every thread
/// multiplies its 4×4 micro-tile out of shared memory. The next slab's global loads are issued before the
/// current slab is multiplied, so they are in flight during the arithmetic.
///
/// Coalescing: whichever of A's strides is 1 (k for x·Wᵀ, m for dYᵀ·x) is the one consecutive threads walk
/// when loading, and likewise for B, so every layout the model uses reads whole memory segments.
/// Shared memory holds both slabs k-major with rows padded to 4·side + 1 floats. A thread's micro-tile is
/// strided — rows ty, ty + side, …, columns tx, tx + side, … — so a warp reads consecutive shared addresses
/// of B (no bank conflicts), broadcasts of A, and stores consecutive columns of C.
/// Edges are predicated: any M, N, K work, and values past them load as 0.
/// </summary>
public static class TiledGemm
{
    /// <summary>Rows and columns of C per thread.</summary>
    public const int Micro = 4;

    /// <summary>Block tiles of <paramref name="p"/> for groups of <paramref name="side"/>².</summary>
    public static int Tiles(GemmProblem p, int side) =>
        p.M <= 0 || p.N <= 0 ? 0 : GemmProblem.DivUp(p.M, Micro * side) * GemmProblem.DivUp(p.N, Micro * side);

    /// <summary>The largest side a launch may use: the shared slabs are allocated for it.</summary>
    public const int MaxSide = 16;

    /// <summary>Floats of shared memory a group of <paramref name="side"/>² threads uses.</summary>
    public static int SharedFloats(int side) => 2 * side * (Micro * side + 1);

    /// <summary>
    /// Floats of the static shared allocation every group makes, <see cref="SharedFloats"/>(<see cref="MaxSide"/>)
    /// (8,320 bytes); smaller sides use its start (<see cref="SharedScratch"/>).
    /// </summary>
    public const int SharedCapacity = 2 * MaxSide * (Micro * MaxSide + 1);

    /// <summary>
    /// Block tile <paramref name="tile"/> of C = epilogue(A·B), with the group's <paramref name="shared"/> slabs
    /// (<see cref="SharedCapacity"/> floats, allocated by the kernel). With <paramref name="rowSums"/> non-empty, the
    /// groups of the first block column also write rowSums[m] = Σₖ A(m, k) (a bias gradient, summed from the
    /// slabs already in shared memory, in k order).
    /// </summary>
    public static void Run(int tile, int side, GemmProblem p, ArrayView<float> shared,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux, ArrayView<float> rowSums)
    {
        int block = Micro * side, stride = block + 1;
        int tilesN = GemmProblem.DivUp(p.N, block);
        int m0 = tile / tilesN * block, n0 = tile % tilesN * block;
        int tid = Group.IdxX, tx = tid % side, ty = tid / side;
        bool sums = rowSums.Length > 0 && n0 == 0;
        var aSlab = shared.SubView(0, side * stride);
        var bSlab = shared.SubView(side * stride, side * stride);

        Operand opA = Operand.A(p), opB = Operand.B(p);
        Quad nextA = Load(opA, a, m0, 0, side, tid), nextB = Load(opB, b, n0, 0, side, tid);
        Tile acc = default;
        Quad rowSum = default;
        for (int k0 = 0; k0 < p.K; k0 += side)
        {
            Group.Barrier(); // the previous slab's products are done before it is overwritten
            Store(opA, aSlab, nextA, side, stride, tid);
            Store(opB, bSlab, nextB, side, stride, tid);
            Group.Barrier();
            if (k0 + side < p.K)
            {
                nextA = Load(opA, a, m0, k0 + side, side, tid);
                nextB = Load(opB, b, n0, k0 + side, side, tid);
            }
            for (int k = 0; k < side; k++)
            {
                int row = k * stride;
                var av = new Quad(aSlab[row + ty], aSlab[row + ty + side], aSlab[row + ty + 2 * side], aSlab[row + ty + 3 * side]);
                var bv = new Quad(bSlab[row + tx], bSlab[row + tx + side], bSlab[row + tx + 2 * side], bSlab[row + tx + 3 * side]);
                acc.Add(av, bv);
                if (sums) rowSum = rowSum.Plus(av);
            }
        }

        StoreRow(acc.R0, m0 + ty, n0 + tx, side, p, c, aux);
        StoreRow(acc.R1, m0 + ty + side, n0 + tx, side, p, c, aux);
        StoreRow(acc.R2, m0 + ty + 2 * side, n0 + tx, side, p, c, aux);
        StoreRow(acc.R3, m0 + ty + 3 * side, n0 + tx, side, p, c, aux);
        if (sums && tx == 0)
        {
            int m = m0 + ty;
            if (m < p.M) rowSums[m] = rowSum.V0;
            if (m + side < p.M) rowSums[m + side] = rowSum.V1;
            if (m + 2 * side < p.M) rowSums[m + 2 * side] = rowSum.V2;
            if (m + 3 * side < p.M) rowSums[m + 3 * side] = rowSum.V3;
        }
    }

    // ---- global → registers → shared -----------------------------------------------------------------------

    /// <summary>
    /// A or B seen from the block: element (r, k) — r a row of A or a column of B — at Offset + r·Across + k·Along,
    /// r below Extent, k below Depth.
    /// </summary>
    struct Operand
    {
        public int Offset, Across, Along, Extent, Depth;

        public readonly bool AlongK => Along == 1;

        public static Operand A(GemmProblem p) => new() { Offset = p.AOffset, Across = p.ARow, Along = p.ACol, Extent = p.M, Depth = p.K };

        public static Operand B(GemmProblem p) => new() { Offset = p.BOffset, Across = p.BCol, Along = p.BRow, Extent = p.N, Depth = p.K };
    }

    // Element q of a thread's four is number e = tid + q·side² of the slab. With the operand's k stride 1,
    // consecutive e walk k (a row's slab is side values long); otherwise they walk r (4·side long).
    static Quad Load(Operand o, ArrayView<float> v, int r0, int k0, int side, int tid)
    {
        int n = side * side;
        return new Quad(Element(o, v, r0, k0, side, tid), Element(o, v, r0, k0, side, tid + n),
            Element(o, v, r0, k0, side, tid + 2 * n), Element(o, v, r0, k0, side, tid + 3 * n));
    }

    static float Element(Operand o, ArrayView<float> v, int r0, int k0, int side, int e)
    {
        int r = r0 + SlabRow(o.AlongK, e, side), k = k0 + SlabDepth(o.AlongK, e, side);
        return r < o.Extent && k < o.Depth ? v[o.Offset + r * o.Across + k * o.Along] : 0f;
    }

    static void Store(Operand o, ArrayView<float> slab, Quad v, int side, int stride, int tid)
    {
        int n = side * side;
        slab[SlabIndex(o.AlongK, tid, side, stride)] = v.V0;
        slab[SlabIndex(o.AlongK, tid + n, side, stride)] = v.V1;
        slab[SlabIndex(o.AlongK, tid + 2 * n, side, stride)] = v.V2;
        slab[SlabIndex(o.AlongK, tid + 3 * n, side, stride)] = v.V3;
    }

    /// <summary>Which of the block's 4·side rows (of A) or columns (of B) element e of the slab is.</summary>
    static int SlabRow(bool alongK, int e, int side) => alongK ? e / side : e % (Micro * side);

    /// <summary>Which of the slab's side k values element e is.</summary>
    static int SlabDepth(bool alongK, int e, int side) => alongK ? e % side : e / (Micro * side);

    static int SlabIndex(bool alongK, int e, int side, int stride) => SlabDepth(alongK, e, side) * stride + SlabRow(alongK, e, side);

    // ---- registers → C ------------------------------------------------------------------------------------

    static void StoreRow(Quad r, int m, int n, int side, GemmProblem p, ArrayView<float> c, ArrayView<float> aux)
    {
        if (m >= p.M) return;
        int row = m * p.N;
        if (n < p.N) c[row + n] = Epilogues.Apply(r.V0, m, n, p, c, aux);
        if (n + side < p.N) c[row + n + side] = Epilogues.Apply(r.V1, m, n + side, p, c, aux);
        if (n + 2 * side < p.N) c[row + n + 2 * side] = Epilogues.Apply(r.V2, m, n + 2 * side, p, c, aux);
        if (n + 3 * side < p.N) c[row + n + 3 * side] = Epilogues.Apply(r.V3, m, n + 3 * side, p, c, aux);
    }

    /// <summary>Four floats; a struct of scalars, so they stay in registers.</summary>
    struct Quad(float v0, float v1, float v2, float v3)
    {
        public float V0 = v0, V1 = v1, V2 = v2, V3 = v3;

        public readonly Quad Plus(Quad o) => new(V0 + o.V0, V1 + o.V1, V2 + o.V2, V3 + o.V3);
    }

    /// <summary>A thread's 4×4 accumulators, one <see cref="Quad"/> per row.</summary>
    struct Tile
    {
        public Quad R0, R1, R2, R3;

        /// <summary>The outer product a·bᵀ added in.</summary>
        public void Add(Quad a, Quad b)
        {
            R0 = Fma(R0, a.V0, b);
            R1 = Fma(R1, a.V1, b);
            R2 = Fma(R2, a.V2, b);
            R3 = Fma(R3, a.V3, b);
        }

        static Quad Fma(Quad acc, float s, Quad b) =>
            new(acc.V0 + s * b.V0, acc.V1 + s * b.V1, acc.V2 + s * b.V2, acc.V3 + s * b.V3);
    }
}
