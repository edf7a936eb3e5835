using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Kernels;

/// <summary>
/// A vector of floats of some width, for code written once and compiled for each width (<see cref="SimdTiles{V}"/>).
/// .NET caps <see cref="Vector{T}"/> at 256 bits even where 512-bit vectors run at full speed (Zen 4/5, recent
/// Xeons), and only an environment variable set before the process starts lifts the cap; the 512-bit type
/// <see cref="Vector512{T}"/> is always there. The JIT compiles a generic method once per struct argument and
/// inlines these wrappers, so each width runs as if written by hand (measured: the same GFLOP/s as raw vectors).
/// </summary>
interface ILanes<V> where V : struct, ILanes<V>
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }
    static abstract V Load(ref float r, int i);
    static abstract void Store(V v, ref float r, int i);
    /// <summary>x·y + acc, one rounding.</summary>
    static abstract V Fma(V x, V y, V acc);
    /// <summary>Every lane <paramref name="x"/>.</summary>
    static abstract V Splat(float x);
    /// <summary>The lanes' sum.</summary>
    static abstract float Sum(V v);
}

/// <summary><see cref="Vector{T}"/>: the runtime's width (AVX2's 256 bits, NEON's 128, or 512 if the cap was lifted).</summary>
readonly struct VectorLanes(Vector<float> v) : ILanes<VectorLanes>
{
    readonly Vector<float> v = v;
    public static int Count => Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes Load(ref float r, int i) => new(Vector.LoadUnsafe(ref r, (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(VectorLanes x, ref float r, int i) => x.v.StoreUnsafe(ref r, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes Fma(VectorLanes x, VectorLanes y, VectorLanes acc) => new(Vector.FusedMultiplyAdd(x.v, y.v, acc.v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VectorLanes Splat(float x) => new(new Vector<float>(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(VectorLanes x) => Vector.Sum(x.v);
}

/// <summary><see cref="Vector512{T}"/>: used where <see cref="Vector512.IsHardwareAccelerated"/> (the runtime's judgement, false where 512-bit code throttles the clock).</summary>
readonly struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
{
    readonly Vector512<float> v = v;
    /// <summary>Whether the products run 512 bits wide rather than <see cref="Vector{T}"/>'s width.</summary>
    public static bool Preferred => Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(ref float r, int i) => new(Vector512.LoadUnsafe(ref r, (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes512 x, ref float r, int i) => x.v.StoreUnsafe(ref r, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Fma(Lanes512 x, Lanes512 y, Lanes512 acc) => new(Vector512.FusedMultiplyAdd(x.v, y.v, acc.v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Splat(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes512 x) => Vector512.Sum(x.v);
}
