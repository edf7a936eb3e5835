namespace IlgpuVae.IO;

/// <summary>A named float32 tensor, row-major.</summary>
public sealed record NamedTensor
{
    public string Name { get; }
    public int[] Shape { get; }
    public float[] Data { get; }

    public NamedTensor(string name, int[] shape, float[] data)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (shape.Any(d => d < 0) || count != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] needs {count} values; {data.Length} given.");
        (Name, Shape, Data) = (name, shape, data);
    }
}
