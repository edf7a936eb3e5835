using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// Float arithmetic on <typeparamref name="T"/>, one float or a vector of them lane by lane, so that an element-wise
/// formula is written once for a GPU's scalar kernel and the CPU accelerator's vector code (<see cref="Optimizers.Adam"/>).
/// Each operation is one IEEE operation per lane — never a fused multiply-add; division and square root exactly
/// rounded — so both give the same bits. The implementations are structs used through a generic constraint, so ILGPU
/// and the JIT compile each call as the operation itself: no interface dispatch inside a kernel.
/// </summary>
interface IArithmetic<T> where T : struct
{
    /// <summary>x + y.</summary>
    T Add(T x, T y);
    /// <summary>x + c in every lane.</summary>
    T AddScalar(T x, float c);
    /// <summary>x − y.</summary>
    T Subtract(T x, T y);
    /// <summary>x · y.</summary>
    T Multiply(T x, T y);
    /// <summary>a · x.</summary>
    T MultiplyScalar(float a, T x);
    /// <summary>x · c (the same product as c · x, but NaN operands can give another NaN: the order is kept as written).</summary>
    T MultiplyByScalar(T x, float c);
    /// <summary>x / y.</summary>
    T Divide(T x, T y);
    /// <summary>x / c.</summary>
    T DivideScalar(T x, float c);
    /// <summary>√x.</summary>
    T Sqrt(T x);
}

/// <summary>One float: a GPU kernel's arithmetic, and the vector code's for its last few elements.</summary>
readonly struct FloatArithmetic : IArithmetic<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Add(float x, float y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float AddScalar(float x, float c) => x + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Subtract(float x, float y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Multiply(float x, float y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float MultiplyScalar(float a, float x) => a * x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float MultiplyByScalar(float x, float c) => x * c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Divide(float x, float y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float DivideScalar(float x, float c) => x / c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Sqrt(float x) => XMath.Sqrt(x);
}

/// <summary>A <see cref="Vector{T}"/> of floats: the CPU accelerator's vector code (plain .NET, never compiled by ILGPU).</summary>
readonly struct VectorArithmetic : IArithmetic<Vector<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Add(Vector<float> x, Vector<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> AddScalar(Vector<float> x, float c) => x + new Vector<float>(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Subtract(Vector<float> x, Vector<float> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Multiply(Vector<float> x, Vector<float> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> MultiplyScalar(float a, Vector<float> x) => a * x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> MultiplyByScalar(Vector<float> x, float c) => x * c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Divide(Vector<float> x, Vector<float> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> DivideScalar(Vector<float> x, float c) => x / c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Sqrt(Vector<float> x) => Vector.SquareRoot(x);
}
