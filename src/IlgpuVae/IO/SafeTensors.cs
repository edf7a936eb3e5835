using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using IlgpuVae.Runs;

namespace IlgpuVae.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// ({name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__": {string: string}},
/// padded with spaces to a multiple of 8), then the data, offsets relative to its start. Writes F32 only;
/// reads F32, F64, F16 and BF16 as float. The reader trusts nothing: every length and offset is checked
/// against the file before anything is allocated, and the tensors must tile the data section exactly.
/// </summary>
public static class SafeTensors
{
    const long MaxHeader = 100L << 20;

    /// <summary>Writes the tensors in order, atomically; the same tensors give the same bytes.</summary>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var t in tensors)
        {
            if (!header.TryAdd(t.Name, new { dtype = "F32", shape = t.Shape, data_offsets = new[] { offset, offset + 4L * t.Data.Length } }))
                throw new ArgumentException($"Tensor name '{t.Name}' appears twice.");
            offset += 4L * t.Data.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, tmp =>
        {
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var t in tensors)
            {
                var bytes = new byte[4 * t.Data.Length];
                for (int i = 0; i < t.Data.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), t.Data[i]);
                stream.Write(bytes);
            }
        });
    }

    public static IReadOnlyList<NamedTensor> Read(string path) => Parse(path).Tensors;

    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) => Parse(path).Metadata;

    /// <summary>Reads from a stream; <paramref name="name"/> names it in messages.</summary>
    public static IReadOnlyList<NamedTensor> Read(Stream stream, string name)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Parse(copy.ToArray(), name).Tensors;
    }

    static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(string path)
    {
        if (!File.Exists(path)) throw new SafeTensorsFormatException($"No checkpoint file at '{path}'.");
        return Parse(File.ReadAllBytes(path), path);
    }

    static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(byte[] file, string name)
    {
        SafeTensorsFormatException Bad(string what) =>
            new($"{name} is not a valid safetensors checkpoint: {what}. Save it again, or point at the right file.");
        if (file.Length < 8) throw Bad($"it has {file.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeader || 8 + (long)headerLength > file.Length)
            throw Bad($"the header claims {headerLength} bytes but the file has {file.Length}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(file, 8, (int)headerLength));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or DecoderFallbackException)
        {
            throw Bad("the header is not valid JSON");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("the header is not a JSON object");
            long dataStart = 8 + (long)headerLength, dataLength = file.Length - dataStart;
            var metadata = new Dictionary<string, string>();
            var entries = new List<(string Name, string Dtype, int[] Shape, long Begin, long End)>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad($"metadata '{m.Name}' is not a string");
                    continue;
                }
                if (entries.Any(e => e.Name == property.Name)) throw Bad($"tensor '{property.Name}' appears twice");
                entries.Add(Entry(property, Bad));
            }
            // The tensors must tile [0, dataLength) without gaps or overlaps.
            long expected = 0;
            foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (e.Begin != expected) throw Bad($"tensor '{e.Name}' starts at byte {e.Begin}, expected {expected} (a gap or an overlap)");
                expected = e.End;
            }
            if (expected != dataLength) throw Bad($"the tensors cover {expected} bytes of a {dataLength}-byte data section");
            var tensors = entries.OrderBy(e => e.Begin)
                .Select(e => new NamedTensor(e.Name, e.Shape, Decode(file.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin)), e.Dtype)))
                .ToList();
            return (tensors, metadata);
        }
    }

    static (string, string, int[], long, long) Entry(JsonProperty p, Func<string, SafeTensorsFormatException> bad)
    {
        var v = p.Value;
        if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String ||
            !v.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array ||
            !v.TryGetProperty("data_offsets", out var offsetsJson) || offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
            throw bad($"tensor '{p.Name}' lacks a dtype, shape or data_offsets");
        string dtype = dtypeJson.GetString()!;
        int size = ElementSize(dtype) ?? throw bad($"tensor '{p.Name}' has dtype {dtype}; only F32, F64, F16 and BF16 can be read");
        var shape = new List<int>();
        long count = 1;
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                throw bad($"tensor '{p.Name}' has a dimension that is not a whole number from 0 to 2³¹");
            shape.Add(dim);
            count *= dim;
            if (count > int.MaxValue) throw bad($"tensor '{p.Name}' is too large");
        }
        if (!offsetsJson[0].TryGetInt64(out long begin) || !offsetsJson[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw bad($"tensor '{p.Name}' has invalid data_offsets");
        if (end - begin != count * size)
            throw bad($"tensor '{p.Name}' has {end - begin} bytes; shape [{string.Join(", ", shape)}] of {dtype} needs {count * size}");
        return (p.Name, dtype, shape.ToArray(), begin, end);
    }

    static int? ElementSize(string dtype) => dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => null };

    static float[] Decode(ReadOnlySpan<byte> bytes, string dtype)
    {
        int size = ElementSize(dtype)!.Value;
        var values = new float[bytes.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            var b = bytes.Slice(i * size, size);
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(b),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
            };
        }
        return values;
    }
}
