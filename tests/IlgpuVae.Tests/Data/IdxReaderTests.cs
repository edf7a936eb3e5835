using System.IO.Compression;
using IlgpuVae.Data;
using IlgpuVae.Tests.Infrastructure;
using static IlgpuVae.Tests.Data.IdxFiles;

namespace IlgpuVae.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsThreeDimensionalArray(bool gzipped)
    {
        byte[] data = Pattern(2 * 3 * 4);
        byte[] bytes = Encode(data, 2, 3, 4);
        // No .gz suffix on either: gzip is recognised by its magic bytes, not by the name.
        string path = _temp.File("images");
        File.WriteAllBytes(path, gzipped ? Gzip(bytes) : bytes);

        IdxArray array = IdxReader.Read(path);

        Assert.Equal([2, 3, 4], array.Dims);
        Assert.Equal(data, array.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsOneDimensionalArray(bool gzipped)
    {
        byte[] bytes = Encode([7, 0, 255], 3);
        string path = _temp.File("labels.gz"); // a .gz name holding plain data is read as plain
        File.WriteAllBytes(path, gzipped ? Gzip(bytes) : bytes);

        IdxArray array = IdxReader.Read(path);

        Assert.Equal([3], array.Dims);
        Assert.Equal([7, 0, 255], array.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsNonSeekableStream(bool gzipped)
    {
        byte[] data = Pattern(10);
        byte[] bytes = Encode(data, 5, 2);
        // Decompressing an outer gzip layer gives a stream that cannot seek.
        using var stream = new GZipStream(new MemoryStream(Gzip(gzipped ? Gzip(bytes) : bytes)), CompressionMode.Decompress);

        IdxArray array = IdxReader.Read(stream, "piped");

        Assert.Equal([5, 2], array.Dims);
        Assert.Equal(data, array.Data);
    }

    public static TheoryData<string, byte[], string, string> Malformed() => new()
    {
        // case, file content, fragment when plain, fragment when gzipped
        { "empty", [], "empty", "empty" },
        { "short magic", [0, 0], "truncated", "truncated" },
        { "bad magic", [0x50, 0x4b, 8, 1, 0, 0, 0, 1, 0], "bad magic bytes 0x50 0x4b", "bad magic bytes 0x50 0x4b" },
        { "float type", [0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], "element type 0x0d", "element type 0x0d" },
        { "no dims", [0, 0, 8, 0], "0 dimensions", "0 dimensions" },
        { "five dims", Encode([1], 1, 1, 1, 1, 1), "5 dimensions", "5 dimensions" },
        { "short dims", [0, 0, 8, 3, 0, 0, 0, 2], "before the 3 dimensions", "before the 3 dimensions" },
        { "zero dim", Encode([], 4, 0), "dimension 1 = 0", "dimension 1 = 0" },
        { "negative dim", Encode([], -1), "dimension 0 = -1", "dimension 0 = -1" },
        { "overflowing dims", Encode([], 65536, 65536, 65536, 65536), "exceeds 2147483647", "exceeds 2147483647" },
        { "too few bytes", Encode(Pattern(10), 1000), "holds 10", "only 10 follow" },
        { "too many bytes", Encode(Pattern(6), 2, 2), "holds 6", "data after the 4 bytes" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void RejectsMalformedFile(string name, byte[] content, string plainFragment, string gzipFragment)
    {
        foreach (bool gzipped in new[] { false, true })
        {
            string path = _temp.File($"{name}{(gzipped ? ".gz" : "")}");
            File.WriteAllBytes(path, gzipped ? Gzip(content) : content);

            var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));

            Assert.Contains(path, e.Message);
            Assert.Contains(gzipped ? gzipFragment : plainFragment, e.Message);
        }
    }

    [Fact]
    public void RejectsMissingFileNamingIt()
    {
        string path = _temp.File("nowhere-idx3-ubyte");
        var e = Assert.Throws<DataNotFoundException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void RejectsCorruptGzip()
    {
        byte[] gzip = Gzip(Encode(Pattern(4096), 64, 64));
        for (int i = 20; i < gzip.Length - 8; i += 7)
            gzip[i] ^= 0x5a;
        string path = _temp.File("corrupt.gz");
        File.WriteAllBytes(path, gzip);

        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));

        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void RejectsTruncatedGzip()
    {
        byte[] gzip = Gzip(Encode(Pattern(4096), 64, 64));
        string path = _temp.File("cut.gz");
        File.WriteAllBytes(path, gzip[..(gzip.Length / 2)]);

        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));

        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void LyingHeaderDoesNotAllocateWhatItClaims()
    {
        // A gzip stream's length is unknown up front: the header claims 1 GiB, 10 bytes follow.
        string path = _temp.File("liar.gz");
        File.WriteAllBytes(path, Gzip(Encode(Pattern(10), 1 << 30)));
        long before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<DataFormatException>(() => IdxReader.Read(path));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated far more than was read");
    }
}
