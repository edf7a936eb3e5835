using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace IlgpuVae.IO;

/// <summary>
/// A safetensors header read from a stream and checked against the stream's length: the tensors in data-offset
/// order, tiling the data section exactly, and the metadata. The stream is left at the start of the data.
/// </summary>
internal sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsHeader.Entry> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The reference implementation's limit; a larger header is corrupt, not big.</summary>
    const long MaxHeaderBytes = 100_000_000;

    public sealed record Entry(string Name, string Dtype, int Size, int[] Shape, long Count, long Begin, long End)
    {
        const int Chunk = 1 << 14;

        /// <summary>Reads and converts this tensor's bytes, which must come next in <paramref name="stream"/>.</summary>
        public NamedTensor ReadData(Stream stream)
        {
            var values = new float[Count];
            var bytes = new byte[Size * Math.Min(values.Length, Chunk)];
            for (int start = 0; start < values.Length; start += Chunk)
            {
                int n = Math.Min(Chunk, values.Length - start);
                stream.ReadExactly(bytes, 0, n * Size);
                for (int i = 0; i < n; i++) values[start + i] = Decode(bytes.AsSpan(i * Size, Size));
            }
            return new NamedTensor(Name, Shape, values);
        }

        float Decode(ReadOnlySpan<byte> b) => Dtype switch
        {
            "F32" => BinaryPrimitives.ReadSingleLittleEndian(b),
            "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
            "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
            // bfloat16 is the top half of a float32.
            _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
        };
    }

    static int? ElementSize(string dtype) => dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => null };

    public static SafeTensorsHeader Read(Stream stream, string file)
    {
        long available = stream.Length - stream.Position;
        if (available < 8) throw Bad(file, $"it is {available} bytes long, too short for the 8-byte header length");
        var prefix = new byte[8];
        stream.ReadExactly(prefix);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > MaxHeaderBytes) throw Bad(file, $"its header length is {length} bytes, over the limit of {MaxHeaderBytes}");
        if ((long)length > available - 8) throw Bad(file, $"its header length is {length} bytes, but only {available - 8} bytes follow");
        var json = new byte[length];
        stream.ReadExactly(json);
        if (!Utf8.IsValid(json)) throw Bad(file, "its header is not valid UTF-8");
        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement, available - 8 - (long)length, file);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name or string escapes a lone UTF-16 surrogate ("\ud800").
            throw Bad(file, $"its header is not valid JSON ({e.Message})", e);
        }
    }

    static SafeTensorsHeader Parse(JsonElement root, long dataLength, string file)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad(file, $"its header is a JSON {root.ValueKind}, not an object");
        var metadata = new Dictionary<string, string>();
        var entries = new List<Entry>();
        var names = new HashSet<string>();
        foreach (var p in root.EnumerateObject())
        {
            // JsonDocument keeps duplicate names; the format does not allow them.
            if (!names.Add(p.Name)) throw Bad(file, $"'{p.Name}' appears twice in its header");
            if (p.Name == SafeTensors.MetadataKey) ReadMetadata(p.Value, metadata, file);
            else entries.Add(ReadEntry(p.Name, p.Value, file));
        }
        var tensors = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long covered = 0;
        foreach (var t in tensors)
        {
            if (t.Begin > covered) throw Bad(file, $"bytes {covered} to {t.Begin} of its data belong to no tensor");
            if (t.Begin < covered) throw Bad(file, $"tensor '{t.Name}' overlaps the tensor stored before it");
            covered = t.End;
        }
        if (covered != dataLength)
            throw Bad(file, covered > dataLength
                ? $"its tensors need {covered} bytes of data but it holds {dataLength} (is it truncated?)"
                : $"its data section has {dataLength} bytes but the tensors cover only {covered}");
        return new SafeTensorsHeader(tensors, metadata);
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Bad(file, $"its {SafeTensors.MetadataKey} is not an object");
        foreach (var m in value.EnumerateObject())
            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                : throw Bad(file, $"its metadata '{m.Name}' is not a string");
    }

    static Entry ReadEntry(string name, JsonElement value, string file)
    {
        if (value.ValueKind != JsonValueKind.Object ||
            !value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String ||
            !value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array ||
            !value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Bad(file, $"tensor '{name}' lacks a string \"dtype\", an array \"shape\" or a two-number \"data_offsets\"");
        string type = dtype.GetString()!;
        int size = ElementSize(type) ?? throw Bad(file, $"tensor '{name}' has dtype {type}; only F32, F64, F16 and BF16 can be read");
        var dims = new int[shape.GetArrayLength()];
        for (int i = 0; i < dims.Length; i++)
            if (shape[i].ValueKind != JsonValueKind.Number || !shape[i].TryGetInt32(out dims[i]) || dims[i] < 0)
                throw Bad(file, $"tensor '{name}' has shape dimension {shape[i]}, not an integer from 0 to {int.MaxValue}");
        long count = NamedTensor.ElementCount(dims);
        if (count < 0) throw Bad(file, $"tensor '{name}' has more elements than an array can hold");
        if (offsets[0].ValueKind != JsonValueKind.Number || !offsets[0].TryGetInt64(out long begin) ||
            offsets[1].ValueKind != JsonValueKind.Number || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad(file, $"tensor '{name}' has data_offsets {offsets}, not two integers 0 ≤ begin ≤ end");
        if (end - begin != count * size)
            throw Bad(file, $"tensor '{name}' has {end - begin} bytes, but shape {shape} of {type} needs {count * size}");
        return new Entry(name, type, size, dims, count, begin, end);
    }

    static SafeTensorsFormatException Bad(string file, string what, Exception? inner = null) =>
        new($"{file} is not a valid safetensors file: {what}. Save it again, or point at the intended file.", inner);
}
