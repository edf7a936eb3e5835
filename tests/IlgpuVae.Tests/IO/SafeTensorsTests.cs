using System.Buffers.Binary;
using System.Text.Json;
using IlgpuVae.IO;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    static NamedTensor[] Sample() =>
    [
        new("encoder.0.weight", [2, 3], [1.5f, -0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC0_1234)]),
        new("encoder.0.bias", [2], [0.25f, -7f]),
        new("scalar", [], [42f]),
        new("empty", [0, 3], []),
    ];

    [Fact]
    public void RoundTripKeepsNamesShapesBitsAndMetadata()
    {
        string path = temp.File("model.safetensors");
        var metadata = new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "β < 1, \"quoted\"" };
        SafeTensors.Write(path, Sample(), metadata);

        var read = SafeTensors.Read(path);
        Assert.Equal(Sample().Select(t => t.Name), read.Select(t => t.Name));
        foreach (var (expected, actual) in Sample().Zip(read))
        {
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Data.Select(BitConverter.SingleToInt32Bits), actual.Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(metadata, SafeTensors.ReadMetadata(path));
    }

    [Fact]
    public void WritesTheBytesPythonWrites() // and so Python's safetensors reads ours
    {
        string path = temp.File("a.safetensors");
        SafeTensors.Write(path, [new NamedTensor("a", [2, 3], [0, 1, 2, 3, 4, 5])]);
        Assert.Equal(SafeTensorsFiles.PythonArange(), File.ReadAllBytes(path));
    }

    [Fact]
    public void WritesTheReferenceImplementationsTestVectors()
    {
        // Expected bytes from the unit tests of huggingface/safetensors (safetensors/src/tensor.rs).
        string aligned = temp.File("aligned.safetensors"), meta = temp.File("meta.safetensors");
        SafeTensors.Write(aligned, [new NamedTensor("attn0", [1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]);
        SafeTensors.Write(meta, [], new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal((byte[])
        [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        ], File.ReadAllBytes(aligned));
        Assert.Equal((byte[])
        [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ], File.ReadAllBytes(meta));
        Assert.Equal("pt", SafeTensors.ReadMetadata(meta)["framework"]);
        Assert.Empty(SafeTensors.Read(meta));
    }

    [Fact]
    public void ReadsAFilePythonWrote()
    {
        var tensor = Assert.Single(SafeTensors.Read(new MemoryStream(SafeTensorsFiles.PythonArange()), "python.safetensors"));
        Assert.Equal("a", tensor.Name);
        Assert.Equal([2, 3], tensor.Shape);
        Assert.Equal([0f, 1, 2, 3, 4, 5], tensor.Data);
    }

    [Fact]
    public void HeaderIsPaddedToEightBytesAndListsTensorsInOrder()
    {
        string path = temp.File("model.safetensors");
        SafeTensors.Write(path, Sample(), new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, length % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, length));
        Assert.Equal(["__metadata__", .. Sample().Select(t => t.Name)], header.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(8 + length + 4 * Sample().Sum(t => t.Data.Length), bytes.Length);
    }

    [Fact]
    public void SameInputGivesIdenticalBytes()
    {
        string a = temp.File("a.safetensors"), b = temp.File("b.safetensors");
        SafeTensors.Write(a, Sample(), new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" });
        SafeTensors.Write(b, Sample(), new SortedList<string, string> { ["y"] = "2", ["x"] = "1" });
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void ReadsInDataOffsetOrder()
    {
        var file = SafeTensorsFiles.Build(
            """{"late":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"early":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""",
            SafeTensorsFiles.F32(1, 2));
        var read = SafeTensors.Read(new MemoryStream(file), "order");
        Assert.Equal(["early", "late"], read.Select(t => t.Name));
        Assert.Equal([1f, 2f], read.SelectMany(t => t.Data));
    }

    [Fact]
    public void ConvertsF64F16AndBf16ToFloat()
    {
        var data = new byte[8 + 2 + 2];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 0.1);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(8), (Half)1.5);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(10), 0xC040); // bfloat16 −3
        var file = SafeTensorsFiles.Build(
            """{"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[10,12]}}""",
            data);
        var read = SafeTensors.Read(new MemoryStream(file), "mixed");
        Assert.Equal([0.1f, 1.5f, -3f], read.Select(t => Assert.Single(t.Data)));
    }

    [Fact]
    public void ReadsANonSeekableStream()
    {
        using var pipe = new NonSeekable(SafeTensorsFiles.PythonArange());
        Assert.Equal([0f, 1, 2, 3, 4, 5], Assert.Single(SafeTensors.Read(pipe, "pipe")).Data);
    }

    [Fact]
    public void MetadataIsEmptyWhenAbsent()
    {
        string path = temp.File("plain.safetensors");
        File.WriteAllBytes(path, SafeTensorsFiles.PythonArange());
        Assert.Empty(SafeTensors.ReadMetadata(path));
    }

    [Fact]
    public void WriteLeavesOnlyTheTargetAndReplacesAnOldFile()
    {
        string path = temp.File("model.safetensors");
        File.WriteAllText(path, "old");
        SafeTensors.Write(path, Sample());
        Assert.Equal(["model.safetensors"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
        Assert.Equal(4, SafeTensors.Read(path).Count);
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string path = temp.File("model.safetensors");
        SafeTensors.Write(path, Sample());
        var before = File.ReadAllBytes(path);

        // `with` skips the constructor's check, so the writer must catch the mismatch itself.
        var bad = new NamedTensor("w", [2, 2], [1, 2, 3, 4]) with { Data = [1, 2, 3] };
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [.. Sample(), bad]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [Sample()[0], Sample()[0]]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new NamedTensor("__metadata__", [], [1])]));
        Assert.Throws<InvalidOperationException>(() => AtomicWrite.Replace(path, stream =>
        {
            stream.Write(new byte[100]);
            throw new InvalidOperationException("disk full, say");
        }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void NamedTensorRefusesDataThatDoesNotFitItsShape()
    {
        Assert.Throws<ArgumentException>(() => new NamedTensor("t", [2, 3], new float[5]));
        Assert.Throws<ArgumentException>(() => new NamedTensor("t", [-1], new float[1]));
        Assert.Throws<ArgumentException>(() => new NamedTensor("t", [65536, 65536], []));
        Assert.Single(new NamedTensor("scalar", [], [1f]).Data);
    }

    [Fact]
    public void MessagesAreReadable()
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() =>
            SafeTensors.Read(new MemoryStream(SafeTensorsFiles.Build("""{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", new byte[8])), "ckpt.safetensors"));
        Assert.Contains("ckpt.safetensors", e.Message);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("I64", e.Message);
        Assert.Contains("Save it again", e.Message);
    }

    sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
