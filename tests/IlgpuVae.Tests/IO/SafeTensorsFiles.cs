using System.Buffers.Binary;
using System.Text;

namespace IlgpuVae.Tests.IO;

/// <summary>safetensors files built byte by byte, the way the reference (Python/Rust) implementation lays them out.</summary>
internal static class SafeTensorsFiles
{
    /// <summary>The 8-byte length, <paramref name="header"/> padded with spaces to a multiple of 8, then <paramref name="data"/>.</summary>
    public static byte[] Build(string header, byte[] data) => Build(Encoding.UTF8.GetBytes(header), data);

    public static byte[] Build(byte[] header, byte[] data)
    {
        int padded = (header.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        file.AsSpan(8, padded).Fill((byte)' ');
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + padded);
        return file;
    }

    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>The header <c>{"a": F32 [2, 3]}</c> and the values 0…5: what <c>safetensors.torch.save_file({"a": torch.arange(6.).reshape(2, 3)}, …)</c> writes.</summary>
    public static byte[] PythonArange() =>
        Build("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}""", F32(0, 1, 2, 3, 4, 5));
}
