namespace IlgpuVae.IO;

/// <summary>
/// A named float32 tensor, row-major (last dimension fastest): <see cref="Data"/> holds exactly the product of
/// <see cref="Shape"/> values (one for the scalar shape []). Like any record, equality compares the arrays by
/// reference, not by content.
/// </summary>
internal sealed record NamedTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>The values; the constructor refuses a length other than the product of the shape.</summary>
    public float[] Data { get; init; } = ElementCount(Shape) == Data.Length ? Data
        : throw new ArgumentException($"Tensor '{Name}': shape [{string.Join(", ", Shape)}] does not hold {Data.Length} values.", nameof(Data));

    /// <summary>The product of the dimensions, or -1 when one is negative or the product exceeds an array's length.</summary>
    internal static long ElementCount(int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            // Checking after every factor keeps the product below 2^62: it cannot overflow.
            if (d < 0 || (count *= d) > Array.MaxLength) return -1;
        }
        return count;
    }
}
