using System.Buffers.Binary;
using System.Text;
using IlgpuVae.IO;
using IlgpuVae.Tests.Data;

namespace IlgpuVae.Tests.IO;

/// <summary>The safetensors reader and writer: round trips, files as Python writes them, and every malformation refused.</summary>
public sealed class SafeTensorsTests
{
    static readonly NamedTensor[] Tensors =
    [
        new("encoder.0.weight", [2, 3], [1f, -2f, 3.5f, float.Epsilon, -0f, 1e30f]),
        new("encoder.0.bias", [2], [0.25f, -7f]),
        new("empty", [0, 4], []),
    ];

    [Fact]
    public void RoundTripKeepsNamesShapesValuesAndMetadata()
    {
        using var temp = new TempFolder();
        string path = temp.File("m.safetensors");
        SafeTensors.Write(path, Tensors, new Dictionary<string, string> { ["epoch"] = "3" });
        var back = SafeTensors.Read(path);
        Assert.Equal(Tensors.Select(t => t.Name), back.Select(t => t.Name));
        for (int i = 0; i < Tensors.Length; i++)
        {
            Assert.Equal(Tensors[i].Shape, back[i].Shape);
            Assert.Equal(Tensors[i].Data.Select(BitConverter.SingleToInt32Bits), back[i].Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal("3", SafeTensors.ReadMetadata(path)["epoch"]);
    }

    [Fact]
    public void TheSameTensorsGiveTheSameBytes()
    {
        using var temp = new TempFolder();
        SafeTensors.Write(temp.File("a"), Tensors);
        SafeTensors.Write(temp.File("b"), Tensors);
        Assert.Equal(File.ReadAllBytes(temp.File("a")), File.ReadAllBytes(temp.File("b")));
    }

    [Fact]
    public void ReadsAFileLaidOutAsPythonWritesIt()
    {
        var bytes = Build("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[24,32]}}",
            Floats(1, 2, 3, 4, 5, 6).Concat(BitConverter.GetBytes(0.5)).ToArray());
        var tensors = SafeTensors.Read(new MemoryStream(bytes), "python.safetensors");
        Assert.Equal([1f, 2, 3, 4, 5, 6], tensors[0].Data);
        Assert.Equal([0.5f], tensors[1].Data);
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "fewer than the 8-byte", [1, 2, 3] },
        { "header claims 100 bytes", [100, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}'] },
        { "not valid JSON", Build("{\"a\":", []) },
        { "not a JSON object", Build("[1,2]", []) },
        { "lacks a dtype", Build("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", Floats(1)) },
        { "dtype I64", Build("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]) },
        { "needs 8", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", Floats(1)) },
        { "not a whole number", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", Floats(1)) },
        { "too large", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", Floats(1)) },
        { "invalid data_offsets", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", Floats(1)) },
        { "a gap or an overlap", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", Floats(1, 2)) },
        { "cover 4 bytes of a 8-byte", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", Floats(1, 2)) },
        { "appears twice", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", Floats(1, 2)) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesAreRefusedWithTheReason(string reason, byte[] bytes)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(new MemoryStream(bytes), "bad.safetensors"));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("m.safetensors");
        SafeTensors.Write(path, Tensors);
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [Tensors[0], Tensors[0]]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["m.safetensors"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read("/nonexistent/m.safetensors"));
        Assert.Contains("/nonexistent/m.safetensors", e.Message);
    }

    static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    static byte[] Build(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }
}
