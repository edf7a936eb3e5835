using System.Buffers.Binary;
using IlgpuVae.IO;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.IO;

/// <summary>Every flaw the reader must refuse, always with <see cref="SafeTensorsFormatException"/>.</summary>
public sealed class SafeTensorsRejectionTests : IDisposable
{
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";

    [Theory]
    [InlineData("", 24)]                                     // empty header
    [InlineData("{\"a\":", 24)]                              // truncated JSON
    [InlineData("{" + A + ",}", 24)]                         // trailing comma
    [InlineData("[1, 2]", 0)]                                // not an object
    [InlineData("\"text\"", 0)]
    [InlineData("""{"a":5}""", 24)]                          // entry not an object
    [InlineData("""{"a":{"shape":[2,3],"data_offsets":[0,24]}}""", 24)]   // no dtype
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,24]}}""", 24)]   // no shape
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3]}}""", 24)]           // no offsets
    [InlineData("""{"a":{"dtype":7,"shape":[2,3],"data_offsets":[0,24]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":6,"data_offsets":[0,24]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":["0","24"]}}""", 24)]
    [InlineData("""{"a":{"dtype":"I32","shape":[2,3],"data_offsets":[0,24]}}""", 24)]   // unsupported dtype
    [InlineData("""{"a":{"dtype":"F32","shape":[-2,-3],"data_offsets":[0,24]}}""", 24)] // negative dimensions
    [InlineData("""{"a":{"dtype":"F32","shape":[2.5,3],"data_offsets":[0,24]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2147483648],"data_offsets":[0,24]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,24]}}""", 24)] // product overflows
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,48]}}""", 24)]  // past the end
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}}""", 24)]  // end < begin
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[-24,0]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 24)]  // size ≠ shape × dtype
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,99999999999999999999]}}""", 24)]
    [InlineData("""{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[6],"data_offsets":[16,40]}}""", 40)] // overlap
    [InlineData("""{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[6],"data_offsets":[28,52]}}""", 52)] // gap
    [InlineData("{" + A + "}", 32)]                         // trailing bytes belong to no tensor
    [InlineData("{" + A + "," + A + "}", 24)]               // duplicate name
    [InlineData("""{"__metadata__":[1],""" + A + "}", 24)]
    [InlineData("""{"__metadata__":{"epoch":1},""" + A + "}", 24)]
    [InlineData("""{"__metadata__":{},"__metadata__":{},""" + A + "}", 24)]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}""", 24)] // lone surrogate
    public void RejectsBadHeaders(string header, int dataBytes) =>
        AssertRejected(SafeTensorsFiles.Build(header, new byte[dataBytes]));

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void RejectsFilesShorterThanTheLength(int bytes) => AssertRejected(new byte[bytes]);

    [Theory]
    [InlineData(1000UL)]                // longer than the file
    [InlineData(100_000_008UL)]         // over the 100 MB limit
    [InlineData(ulong.MaxValue)]
    public void RejectsImpossibleHeaderLengths(ulong length)
    {
        var file = SafeTensorsFiles.PythonArange();
        BinaryPrimitives.WriteUInt64LittleEndian(file, length);
        AssertRejected(file);
    }

    [Fact]
    public void RejectsAnOversizedHeaderWithoutReadingIt()
    {
        // A 200 MB stream of zeros claiming a 150 MB header: refused from its length alone.
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(new Zeros(200_000_000, 150_000_000), "huge"));
        Assert.Contains("100000000", e.Message);
    }

    [Fact]
    public void RejectsInvalidUtf8() =>
        AssertRejected(SafeTensorsFiles.Build([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []));

    [Fact]
    public void RejectsATruncatedFile()
    {
        var file = SafeTensorsFiles.PythonArange();
        var e = AssertRejected(file[..^4]);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void RejectsMissingFilesAndFolders()
    {
        string absent = temp.File("absent.safetensors");
        Assert.Contains(absent, Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(absent)).Message);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadMetadata(temp.File("absent/x.safetensors")));
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(temp.Path));
    }

    [Fact]
    public void RandomCorruptionOnlyEverGivesTheDocumentedException()
    {
        var valid = SafeTensorsFiles.Build(
            """{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]}}""",
            new byte[28]);
        var random = new Random(1234);
        for (int trial = 0; trial < 5000; trial++)
        {
            var file = random.Next(4) == 0 ? valid[..random.Next(valid.Length)] : (byte[])valid.Clone();
            for (int flips = random.Next(1, 4); flips > 0 && file.Length > 0; flips--)
                file[random.Next(file.Length)] = (byte)random.Next(256);
            try
            {
                SafeTensors.Read(new MemoryStream(file), "fuzz");
            }
            catch (SafeTensorsFormatException)
            {
            }
        }
    }

    /// <summary>Checks both readers, through a stream and through a file.</summary>
    SafeTensorsFormatException AssertRejected(byte[] file)
    {
        string path = temp.File("bad.safetensors");
        File.WriteAllBytes(path, file);
        Assert.Contains(path, Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(path)).Message);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadMetadata(path));
        return Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(new MemoryStream(file), "stream"));
    }

    /// <summary>A long stream of zeros after a header length, holding no memory.</summary>
    sealed class Zeros(long length, ulong headerLength) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - Position);
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, headerLength);
            for (int i = 0; i < n; i++) buffer[offset + i] = Position + i < 8 ? prefix[(int)(Position + i)] : (byte)0;
            Position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
