using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>
/// Reads the IDX format of the MNIST family: the magic bytes 0x00 0x00 <c>type</c> <c>ndims</c>, then
/// <c>ndims</c> big-endian int32 dimensions, then ∏ dims data values, and nothing after. Only type 0x08
/// (unsigned byte) is supported. Gzip-compressed files are recognised by their 0x1f 0x8b magic, whatever
/// their name. Every malformed input ends in a <see cref="DataFormatException"/>: the size the header claims
/// is checked against <see cref="MaxBytes"/> before anything is allocated, and the buffer only grows as data
/// actually arrives, so a lying header costs at most about twice the bytes present.
/// </summary>
internal static class IdxReader
{
    /// <summary>The largest payload accepted, 2³¹ − 1 bytes (the limit of one .NET array).</summary>
    public const long MaxBytes = int.MaxValue;

    const byte UnsignedByte = 0x08;
    const int MaxDims = 4;
    const int FirstChunk = 1 << 20;

    /// <summary>Reads the IDX file at <paramref name="path"/>, plain or gzipped.</summary>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
            throw new DataNotFoundException(
                $"IDX file '{Path.GetFullPath(path)}' does not exist. Check the path, or put the file there.");
        try
        {
            using var stream = File.OpenRead(path);
            return Read(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"IDX file '{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads one IDX array from <paramref name="stream"/> (plain or gzipped; left open), naming it
    /// <paramref name="nameForMessages"/> in errors. The stream must end where the data ends.
    /// </summary>
    public static IdxArray Read(Stream stream, string nameForMessages)
    {
        try
        {
            return ReadCore(stream, nameForMessages);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // Corrupt deflate data or a CRC mismatch from GZipStream, or a failing device.
            throw new DataFormatException(
                $"IDX file '{nameForMessages}' is corrupt or unreadable ({e.Message}). Download it again.", e);
        }
    }

    /// <summary>
    /// Loads an image set from an IDX images file [N, H, W] and an IDX labels file [N], either plain or gzipped;
    /// pixels are bytes / 255f. A null <paramref name="labelsPath"/> gives labels -1. Throws
    /// <see cref="DataFormatException"/> when the shapes are wrong, the counts disagree, or a label has no name
    /// in a non-empty <paramref name="labelNames"/>.
    /// </summary>
    public static ImageSet LoadImages(string imagesPath, string? labelsPath, string name, string[] labelNames)
    {
        IdxArray images = Read(imagesPath);
        if (images.Dims.Length != 3)
            throw new DataFormatException($"IDX file '{imagesPath}' has dimensions [{string.Join(", ", images.Dims)}]; " +
                "images must be 3-D [count, height, width]. Check that this is an images file, not a labels file.");
        int count = images.Dims[0];
        var labels = new int[count];
        if (labelsPath is null)
            Array.Fill(labels, -1);
        else
        {
            IdxArray read = Read(labelsPath);
            if (read.Dims.Length != 1)
                throw new DataFormatException($"IDX file '{labelsPath}' has dimensions [{string.Join(", ", read.Dims)}]; " +
                    "labels must be 1-D [count]. Check that this is a labels file, not an images file.");
            if (read.Dims[0] != count)
                throw new DataFormatException($"IDX files disagree: '{imagesPath}' holds {count} images but " +
                    $"'{labelsPath}' holds {read.Dims[0]} labels. Use the labels file that belongs to these images.");
            for (int i = 0; i < count; i++)
            {
                labels[i] = read.Data[i];
                if (labelNames.Length > 0 && labels[i] >= labelNames.Length)
                    throw new DataFormatException($"IDX file '{labelsPath}': label {i} is {labels[i]}, but data set " +
                        $"'{name}' has only {labelNames.Length} classes. Use the labels file that belongs to this data set.");
            }
        }
        var pixels = new float[images.Data.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = images.Data[i] / 255f;
        return new ImageSet(name, images.Dims[1], images.Dims[2], pixels, labels, labelNames);
    }

    static IdxArray ReadCore(Stream raw, string name)
    {
        Span<byte> head = stackalloc byte[4];
        int got = ReadFully(raw, head[..2]);
        Stream body = raw;
        bool gzipped = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
        if (gzipped)
        {
            // The two bytes already consumed are part of the gzip header: hand them back in front of the rest.
            body = new GZipStream(new ReplayStream(head[..2].ToArray(), raw), CompressionMode.Decompress, leaveOpen: true);
            got = 0;
        }
        using var owned = gzipped ? body : null; // the caller's stream stays open
        got += ReadFully(body, head[got..]);
        if (got < 4)
            throw Bad(name, $"is {(got == 0 ? "empty" : "truncated")}: its header ends after {got} of 4 magic bytes");
        if (head[0] != 0 || head[1] != 0)
            throw Bad(name, $"has bad magic bytes 0x{head[0]:x2} 0x{head[1]:x2} (IDX files start with 0x00 0x00)");
        if (head[2] != UnsignedByte)
            throw Bad(name, $"has element type 0x{head[2]:x2}; only 0x08 (unsigned byte) is supported");
        int ndims = head[3];
        if (ndims is 0 or > MaxDims)
            throw Bad(name, $"declares {ndims} dimensions; 1 to {MaxDims} are supported");

        Span<byte> dimBytes = stackalloc byte[4 * ndims];
        if (ReadFully(body, dimBytes) < dimBytes.Length)
            throw Bad(name, $"is truncated: its header ends before the {ndims} dimensions");
        var dims = new int[ndims];
        long size = 1;
        for (int d = 0; d < ndims; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * d)..]);
            if (dims[d] <= 0)
                throw Bad(name, $"has dimension {d} = {dims[d]}; dimensions must be positive");
            // Checked per factor, so the running product never exceeds MaxBytes² and cannot overflow.
            size *= dims[d];
            if (size > MaxBytes)
                throw Bad(name, $"declares dimensions [{string.Join(", ", dims[..(d + 1)])}...] " +
                    $"whose product exceeds {MaxBytes} bytes");
        }
        string shape = $"[{string.Join(", ", dims)}]";
        if (!gzipped && raw.CanSeek && raw.Length - raw.Position != size)
            throw Bad(name, $"declares dimensions {shape} = {size} bytes but holds {raw.Length - raw.Position}");

        // A plain seekable file was checked to hold exactly `size` bytes; otherwise grow as bytes arrive.
        byte[] data = ReadPayload(body, (int)size, knownLength: !gzipped && raw.CanSeek, out int filled);
        if (filled < size)
            throw Bad(name, $"is truncated: dimensions {shape} need {size} bytes but only {filled} follow the header");
        if (body.ReadByte() >= 0)
            throw Bad(name, $"has data after the {size} bytes its dimensions {shape} describe");
        return new IdxArray(dims, data);
    }

    /// <summary>
    /// Reads up to <paramref name="size"/> bytes into a buffer allocated whole when the length is known, and
    /// otherwise grown by doubling only as bytes arrive.
    /// </summary>
    static byte[] ReadPayload(Stream s, int size, bool knownLength, out int filled)
    {
        var data = new byte[knownLength ? size : Math.Min(size, FirstChunk)];
        filled = 0;
        while (true)
        {
            if (filled == data.Length)
            {
                if (filled == size)
                    return data;
                Array.Resize(ref data, (int)Math.Min(size, 2L * data.Length));
            }
            int n = s.Read(data, filled, data.Length - filled);
            if (n == 0)
                return data;
            filled += n;
        }
    }

    static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0, n;
        while (total < buffer.Length && (n = s.Read(buffer[total..])) > 0)
            total += n;
        return total;
    }

    static DataFormatException Bad(string name, string what) =>
        new($"IDX file '{name}' {what}. The file is not a valid IDX file or is damaged; download it again.");

    /// <summary>A read-only stream that yields <c>prefix</c> and then the rest of <c>inner</c>.</summary>
    sealed class ReplayStream(byte[] prefix, Stream inner) : Stream
    {
        int _used;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_used == prefix.Length)
                return inner.Read(buffer);
            int n = Math.Min(buffer.Length, prefix.Length - _used);
            prefix.AsSpan(_used, n).CopyTo(buffer);
            _used += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
