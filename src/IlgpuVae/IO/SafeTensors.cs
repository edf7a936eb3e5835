using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace IlgpuVae.IO;

/// <summary>
/// Hugging Face's safetensors format: an 8-byte little-endian u64 header length N; N bytes of UTF-8 JSON,
/// an object mapping each tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets into
/// the data section, which the tensors cover exactly, without gaps or overlaps) plus an optional
/// <c>"__metadata__": {string: string}</c>; then the data, little-endian and row-major.
/// <para>
/// Writes F32 only. Reads F32, and converts F64, F16 and BF16 to float. The readers check every length, offset
/// and shape against the file before allocating for it, and report any flaw — and any failure to open or read
/// the file — as a <see cref="SafeTensorsFormatException"/>.
/// </para>
/// </summary>
internal static class SafeTensors
{
    internal const string MetadataKey = "__metadata__";

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32, in the given order, atomically (see <see cref="AtomicWrite"/>).
    /// The bytes depend on the arguments alone (metadata sorted by key, no timestamps or paths), so the same
    /// tensors always give the same file. The header is padded with spaces to a multiple of 8, which aligns the data.
    /// </summary>
    /// <exception cref="ArgumentException">A name is repeated or is "__metadata__", or a tensor's data does not
    /// fit its shape; thrown before any file is touched.</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        byte[] header = Header(tensors, metadata);
        AtomicWrite.Replace(path, stream =>
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in tensors) WriteF32(stream, t.Data);
        });
    }

    /// <summary>Reads every tensor of the file, in data-offset order.</summary>
    public static IReadOnlyList<NamedTensor> Read(string path) => FromFile(path, stream => Read(stream, path));

    /// <summary>Reads every tensor from <paramref name="stream"/>'s position to its end, in data-offset order;
    /// <paramref name="nameForMessages"/> names the source in exception messages.</summary>
    public static IReadOnlyList<NamedTensor> Read(Stream stream, string nameForMessages) => Guarded(nameForMessages, () =>
    {
        if (!stream.CanSeek)
        {
            // The checks need the length; copying costs no more memory than the tensors will.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        var header = SafeTensorsHeader.Read(stream, nameForMessages);
        // The tensors tile the data section in this order, so each starts where the last one ended.
        return header.Tensors.Select(t => t.ReadData(stream)).ToList();
    });

    /// <summary>Every tensor of the file and its "__metadata__", from one reading, so both come from the same version of the file.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) ReadWithMetadata(string path) =>
        FromFile(path, stream => Guarded(path, () =>
        {
            var header = SafeTensorsHeader.Read(stream, path);
            return ((IReadOnlyList<NamedTensor>)header.Tensors.Select(t => t.ReadData(stream)).ToList(), header.Metadata);
        }));

    /// <summary>The file's "__metadata__" (empty when it has none), after checking the whole header.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) =>
        FromFile(path, stream => Guarded(path, () => SafeTensorsHeader.Read(stream, path).Metadata));

    static T FromFile<T>(string path, Func<Stream, T> read)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SafeTensorsFormatException($"There is no checkpoint file at '{path}'; check the path.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SafeTensorsFormatException($"The checkpoint file '{path}' cannot be opened ({e.Message}); check the path and its permissions.", e);
        }
        using (stream) return read(stream);
    }

    static T Guarded<T>(string name, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // EndOfStreamException included: the file shrank while being read.
            throw new SafeTensorsFormatException($"{name} could not be read ({e.Message}); check that nothing else is writing it, then try again.", e);
        }
    }

    static byte[] Header(IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            var names = new HashSet<string>();
            long offset = 0;
            foreach (var t in tensors)
            {
                if (t.Name == MetadataKey || !names.Add(t.Name))
                    throw new ArgumentException($"Tensor name '{t.Name}' is reserved or used twice.", nameof(tensors));
                // Checked again here: `with` expressions and writes into Shape bypass the constructor's check.
                if (NamedTensor.ElementCount(t.Shape) != t.Data.Length)
                    throw new ArgumentException($"Tensor '{t.Name}': shape [{string.Join(", ", t.Shape)}] does not hold {t.Data.Length} values.", nameof(tensors));
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += 4L * t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        var header = new byte[(buffer.WrittenCount + 7) / 8 * 8];
        Array.Fill(header, (byte)' ');
        buffer.WrittenSpan.CopyTo(header);
        return header;
    }

    static void WriteF32(Stream stream, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        var bytes = new byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
            stream.Write(bytes);
        }
    }
}
