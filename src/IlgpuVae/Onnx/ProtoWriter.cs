using System.Buffers.Binary;
using System.Text;

namespace IlgpuVae.Onnx;

/// <summary>
/// The few pieces of the protocol-buffer wire format an ONNX file needs: varints, 32-bit floats, strings, bytes
/// and nested messages. Written by hand so the library needs no protobuf runtime; ONNX Runtime reading the
/// files in the tests is what checks it. Repeated numbers are written one tag each (unpacked), which is what
/// ONNX's proto2 schema declares and every parser accepts.
/// </summary>
sealed class ProtoWriter
{
    readonly MemoryStream buffer = new();

    const int VarintType = 0, LengthType = 2, Fixed32Type = 5;

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, VarintType);
        RawVarint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, Fixed32Type);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthType);
        RawVarint((ulong)value.Length);
        buffer.Write(value);
        return this;
    }

    /// <summary>A nested message: written into its own buffer first, as its length comes before it.</summary>
    public ProtoWriter Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        return Bytes(field, inner.buffer.GetBuffer().AsSpan(0, (int)inner.buffer.Length));
    }

    public byte[] ToArray() => buffer.ToArray();

    void Tag(int field, int wireType) => RawVarint((ulong)(field << 3 | wireType));

    void RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.WriteByte((byte)value);
    }
}
