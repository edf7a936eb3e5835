using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using IlgpuVae.Data;
using IlgpuVae.IO;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Fuzz;

/// <summary>
/// Property-based tests of the two binary readers on random bytes and on mutations of valid files (flipped
/// bytes, truncation, appended garbage, rewritten header fields): each input is either read or refused with the
/// documented exception type — never another exception, never a hang.
/// </summary>
public sealed class ReaderPropertyTests(ITestOutputHelper log)
{
    const int Inputs = 3000;

    /// <summary>A valid file, then up to 8 edits: set a byte, truncate, or append bytes.</summary>
    static Arbitrary<byte[]> Mutations(byte[] valid) => Gen.Choose(0, 8)
        .SelectMany(edits => Gen.ArrayOf(Gen.Choose(0, int.MaxValue), 3 * edits))
        .Select(r =>
        {
            var bytes = valid.ToList();
            for (int i = 0; i + 2 < r.Length; i += 3)
            {
                int where = bytes.Count == 0 ? 0 : r[i + 1] % bytes.Count;
                switch (r[i] % 4)
                {
                    case 0 when bytes.Count > 0: bytes[where] = (byte)r[i + 2]; break;           // flip a byte
                    case 1 when bytes.Count > 0: bytes[Math.Min(where, 11)] = (byte)r[i + 2]; break; // hit the header
                    case 2: bytes.RemoveRange(where, bytes.Count - where); break;                // truncate
                    default: bytes.AddRange(BitConverter.GetBytes(r[i + 2])); break;             // append
                }
            }
            return bytes.ToArray();
        }).ToArbitrary();

    static Arbitrary<byte[]> RandomBytes => Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)).ToArbitrary();

    /// <summary>
    /// Every input read or refused with <typeparamref name="TDocumented"/> (any other exception, or a slow input, fails the
    /// property); and the inputs reached both outcomes where they can: some refused always, some read too for mutations of
    /// a valid file (<paramref name="someRead"/>) — so the generator exercises the reader's checks and its success.
    /// </summary>
    void Check<TDocumented>(string what, Arbitrary<byte[]> inputs, Action<byte[]> read, bool someRead) where TDocumented : Exception
    {
        int tried = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        Prop.ForAll(inputs, bytes =>
        {
            tried++;
            var one = Stopwatch.StartNew();
            try { read(bytes); }
            catch (TDocumented) { refused++; }
            return one.Elapsed < TimeSpan.FromSeconds(2); // a hang shows as a slow input
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Inputs).WithQuietOnSuccess(true));
        log.WriteLine($"{what}: {tried} inputs, {refused} refused with {typeof(TDocumented).Name}, {tried - refused} read, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(refused > 0, $"{what}: none of {tried} inputs was refused");
        if (someRead) Assert.True(tried > refused, $"{what}: every one of {tried} inputs was refused");
    }

    static readonly byte[] ValidIdx = IdxFiles.Encode(IdxFiles.Pattern(2 * 3 * 4), 2, 3, 4);

    static readonly byte[] ValidSafeTensors = MakeSafeTensors();

    static byte[] MakeSafeTensors()
    {
        using var temp = new TempFolder();
        SafeTensors.Write(temp.File("m.safetensors"),
            [new NamedTensor("encoder.0.weight", [2, 3], [1, 2, 3, 4, 5, 6]), new NamedTensor("encoder.0.bias", [2], [7, 8])],
            new Dictionary<string, string> { ["epoch"] = "1" });
        return File.ReadAllBytes(temp.File("m.safetensors"));
    }

    [Fact]
    public void IdxReaderOnMutatedFiles() =>
        Check<DataFormatException>("IDX, mutated", Mutations(ValidIdx), b => IdxReader.Read(new MemoryStream(b), "fuzz.idx"), someRead: true);

    [Fact]
    public void IdxReaderOnMutatedGzipFiles() =>
        Check<DataFormatException>("IDX gzip, mutated", Mutations(IdxFiles.Gzip(ValidIdx)), b => IdxReader.Read(new MemoryStream(b), "fuzz.idx.gz"), someRead: true);

    [Fact]
    public void IdxReaderOnRandomBytes() =>
        Check<DataFormatException>("IDX, random", RandomBytes, b => IdxReader.Read(new MemoryStream(b), "fuzz.idx"), someRead: false);

    [Fact]
    public void SafeTensorsReaderOnMutatedFiles() =>
        Check<SafeTensorsFormatException>("safetensors, mutated", Mutations(ValidSafeTensors), b => SafeTensors.Read(new MemoryStream(b), "fuzz.safetensors"), someRead: true);

    [Fact]
    public void SafeTensorsReaderOnRandomBytes() =>
        Check<SafeTensorsFormatException>("safetensors, random", RandomBytes, b => SafeTensors.Read(new MemoryStream(b), "fuzz.safetensors"), someRead: false);
}
