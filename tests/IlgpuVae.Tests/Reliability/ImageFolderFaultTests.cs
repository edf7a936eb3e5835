using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using IlgpuVae.Data;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using SkiaSharp;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// Image folders as users leave them: links to folders (a loop, a way out) are not followed, a name that is not UTF-8 is
/// skipped with a warning, and a decompression bomb is refused by name before a pixel is decoded.
/// </summary>
public sealed class ImageFolderFaultTests
{
    static void Images(string folder, int count)
    {
        for (int i = 0; i < count; i++) ImageFiles.Grey(Path.Combine(folder, $"{i}.png"), 6, 6, ImageFiles.Level(i));
    }

    static (ImageSet Train, ImageSet Test, string Log) Load(string folder, DataOptions? options = null)
    {
        var log = new StringWriter();
        var (train, test) = ImageFolder.Load(folder, (options ?? new DataOptions()) with { Log = log, TestFraction = 0.25 });
        return (train, test, log.ToString());
    }

    [Fact]
    public void LinksToFoldersInsideAClassAreNotFollowedIntoALoopOrOutOfTheFolder()
    {
        using var temp = new TempFolder();
        string data = temp.File("data"), outside = temp.File("outside");
        Images(Path.Combine(data, "a"), 7);
        Images(Path.Combine(data, "b"), 7);
        Images(outside, 5);
        Directory.CreateSymbolicLink(Path.Combine(data, "a", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(data, "b", "away"), outside);

        var (train, test, log) = Load(data);
        Assert.Equal(14, train.Count + test.Count);
        Assert.Equal(7, train.Labels.Concat(test.Labels).Count(l => l == 0));
        Assert.Contains("'a/up' links to the folder '..'; links to folders inside a class folder are not followed", log);
        Assert.Contains("'b/away' links to the folder", log);
    }

    [Fact]
    public void ANameThatIsNotUtf8IsSkippedWithAWarningNamingIt()
    {
        using var temp = new TempFolder();
        string data = temp.File("data");
        Images(data, 6);
        // .NET writes names as UTF-8: the shell makes the byte 0xFF.
        Shell(data, "cp 0.png \"$(printf 'bad\\377.png')\"");
        try
        {
            Assert.Equal(7, Directory.GetFiles(data).Length);
            var (train, test, log) = Load(data);
            Assert.Equal(6, train.Count + test.Count);
            Assert.Contains("'bad\uFFFD.png' is skipped: its name is not valid UTF-8", log);
        }
        finally
        {
            Shell(data, "rm -f \"$(printf 'bad\\377.png')\""); // .NET cannot name it to delete it either
        }
    }

    static void Shell(string directory, string command)
    {
        using var shell = Process.Start(new ProcessStartInfo("sh", ["-c", command]) { WorkingDirectory = directory })!;
        shell.WaitForExit();
        Assert.Equal(0, shell.ExitCode);
    }

    [Fact]
    public void AnImageDeclaringMorePixelsThanTheLimitIsRefusedByNameBeforeDecoding()
    {
        using var temp = new TempFolder();
        string data = temp.File("data");
        Images(data, 4);
        string bomb = Path.Combine(data, "bomb.png");
        File.WriteAllBytes(bomb, Png(30000, 30000));
        Assert.True(new FileInfo(bomb).Length < 1000);

        var e = Assert.Throws<DataFormatException>(() => Load(data));
        Assert.Contains($"Image file '{bomb}' declares 30000×30000 pixels (width×height), more than the limit of 40,000,000 pixels", e.Message);
        Assert.Contains(DataOptions.MaxImagePixelsVariable, e.Message);
        // The same through the command line, with an image size given (no size survey first): exit 1, one line.
        var (exit, _, error) = CliRunner.Run("train", "--data", data, "--image-size", "6", "--batch-size", "2", "--device", "cpu", "--out", temp.File("run"));
        Assert.Equal(1, exit);
        Assert.Contains("bomb.png' declares 30000×30000", error);
        // A lower limit refuses smaller images too.
        Assert.Contains("more than the limit of 20 pixels", Assert.Throws<DataFormatException>(() => Load(data, new DataOptions { MaxImagePixels = 20 })).Message);
    }

    /// <summary>A PNG whose header declares width×height grey pixels, followed by one tiny compressed row: a few hundred bytes.</summary>
    static byte[] Png(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth; colour type 0 (grey), compression, filter and interlace 0
        Chunk(png, "IHDR", header);
        var row = new MemoryStream();
        using (var z = new ZLibStream(row, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[4096]);
        Chunk(png, "IDAT", row.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
