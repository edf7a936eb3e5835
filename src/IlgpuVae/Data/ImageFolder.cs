using System.Runtime.ExceptionServices;
using SkiaSharp;

namespace IlgpuVae.Data;

/// <summary>
/// A folder of PNG and JPEG files (<see cref="Extensions"/>, any case) as a data set. The files lie either all at
/// the folder's top level (no labels: -1), or in class subfolders, each subfolder one class and the files in it and
/// below it its images: the label is the subfolder's index among those holding images, in ordinal order of their
/// names, which are the <see cref="ImageSet.LabelNames"/>. Hidden files and folders (names starting with a dot) and
/// files with other extensions are ignored. Links to folders inside a class folder are not followed (so nothing is
/// read twice, from outside the folder, or round a loop), and a name that is not valid UTF-8 (which .NET cannot open
/// by name) is skipped; both are named in the log. A class folder that is itself a link is read, as a class the
/// user chose. A file whose header declares more than <see cref="DataOptions.MaxImagePixels"/> pixels is refused.
/// <para>
/// Each image is decoded with SkiaSharp (its EXIF orientation applied, transparency composited on black),
/// centre-cropped to a square and resized to S×S (<see cref="DataOptions.ImageSize"/>; by default the images' own
/// size when they all share one) with mipmapped linear filtering when shrinking, Mitchell cubic when enlarging, and
/// an exact copy at the same size. The result has <see cref="DataOptions.Channels"/> channels: by default 1 when
/// every decoded image is grey (R, G and B within <see cref="GreyTolerance"/> levels of each other), else 3 (RGB);
/// colour images are made grey with the Rec. 601 luma weights 0.299 R + 0.587 G + 0.114 B, and grey images give
/// three equal channels. Values are bytes / 255.
/// </para>
/// <para>
/// The files, sorted by their path relative to the folder (ordinal), are shuffled with <see cref="DataOptions.Seed"/>
/// (SplitMix64 and Fisher–Yates, the same on every platform and .NET version); the first
/// round(<see cref="DataOptions.TestFraction"/>·N) of the shuffled list, at least 1 and at most N − 1, are the test
/// set, the rest the training set, each in shuffled order. Files are decoded in parallel into fixed slots, so the
/// result, and the error reported when several files are bad (the first in sorted order), do not depend on timing.
/// </para>
/// </summary>
internal static class ImageFolder
{
    /// <summary>The file extensions read, compared case-insensitively.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>The smallest width and height accepted.</summary>
    public const int MinSide = 2;

    /// <summary>The largest difference between R, G and B, in levels of 255, that still counts as grey (encoders' rounding).</summary>
    public const int GreyTolerance = 2;

    /// <summary>The Rec. 601 luma weights for R, G and B.</summary>
    public const float LumaR = 0.299f, LumaG = 0.587f, LumaB = 0.114f;

    static readonly EnumerationOptions TopLevel = new()
    {
        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, IgnoreInaccessible = false,
    };

    sealed record Entry(string Path, string Relative, int Label);

    /// <summary>Whether <paramref name="path"/> ends in one of <see cref="Extensions"/>.</summary>
    public static bool IsImageFile(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads the folder as train and test sets named <c>FOLDER/train</c> and <c>FOLDER/test</c>; see the type's summary.</summary>
    /// <exception cref="ArgumentException">An option is out of range (<see cref="DataOptions.Validate"/>).</exception>
    /// <exception cref="DataFormatException">The folder holds no images, one image, a mix of top-level and class
    /// images, an unreadable, corrupt or too small file, or images of different sizes without an image size.</exception>
    public static (ImageSet Train, ImageSet Test) Load(string folder, DataOptions options)
    {
        options.Validate();
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        string name = Path.GetFileName(full);
        var (files, classNames, skipped) = List(full);
        foreach (var line in skipped) options.Log?.WriteLine($"warning: {line}");
        int n = files.Length;
        long limit = options.MaxImagePixels;

        int size = options.ImageSize ?? CommonSide(full, files, limit);
        CheckFits(full, n, options.Channels ?? 1, size);
        var rgb = new byte[n][];
        var grey = new bool[n];
        ForEachInOrder(n, i =>
        {
            rgb[i] = new byte[3 * size * size];
            grey[i] = Render(files[i], size, rgb[i], limit);
        });

        int firstColour = Array.IndexOf(grey, false);
        int channels = options.Channels ?? (firstColour < 0 ? 1 : 3);
        CheckFits(full, n, channels, size);
        int testCount = (int)Math.Clamp(Math.Round(n * options.TestFraction, MidpointRounding.AwayFromZero), 1, n - 1);
        int[] order = Shuffle(n, options.Seed);
        var test = Gather(order.AsSpan(0, testCount).ToArray(), $"{name}/test");
        var train = Gather(order.AsSpan(testCount).ToArray(), $"{name}/train");

        string why = options.Channels is not null ? "as asked"
            : firstColour < 0 ? "every image is grey"
            : $"'{files[firstColour].Relative}' is in colour";
        options.Log?.WriteLine($"data: {n} image files from {full}" +
            (classNames.Length > 0 ? $" in {classNames.Length} classes" : ", unlabelled") +
            $", as {size}×{size} with {channels} channel{(channels == 1 ? "" : "s")} ({why}); " +
            $"{testCount} held out for test (seed {options.Seed})");
        return (train, test);

        ImageSet Gather(int[] indices, string setName)
        {
            int plane = size * size, dim = channels * plane;
            var pixels = new float[(long)indices.Length * dim];
            var labels = new int[indices.Length];
            Parallel.For(0, indices.Length, k =>
            {
                byte[] source = rgb[indices[k]];
                labels[k] = files[indices[k]].Label;
                Span<float> target = pixels.AsSpan(k * dim, dim);
                if (channels == 3)
                    for (int j = 0; j < target.Length; j++)
                        target[j] = source[j] / 255f;
                else
                    for (int p = 0; p < plane; p++)
                        target[p] = Luma(source[p], source[plane + p], source[2 * plane + p]);
            });
            return new ImageSet(setName, size, size, pixels, labels, classNames, channels: channels);
        }
    }

    /// <summary>Grey level in [0, 1] of one RGB pixel: exactly <c>r / 255</c> when the three agree.</summary>
    static float Luma(byte r, byte g, byte b) => r == g && g == b
        ? r / 255f
        : Math.Min(1f, (LumaR * r + LumaG * g + LumaB * b) / 255f);

    /// <summary>The image files and class names, sorted, and what was skipped; throws when the layout cannot be used.</summary>
    static (Entry[] Files, string[] ClassNames, List<string> Skipped) List(string folder)
    {
        string[] top;
        (string Name, string[] Files)[] classes;
        var skipped = new List<string>();
        try
        {
            top = Readable(Directory.EnumerateFiles(folder, "*", TopLevel), folder, skipped).Where(IsImageFile).ToArray();
            classes = Readable(Directory.EnumerateDirectories(folder, "*", TopLevel), folder, skipped)
                .Select(d => (Name: Path.GetFileName(d), Files: FilesBelow(d, folder, skipped).Where(IsImageFile).ToArray()))
                .Where(c => c.Files.Length > 0)
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"Folder '{folder}' cannot be listed ({e.Message}). Check its permissions, or point RunConfig.Data elsewhere.", e);
        }

        string extensions = string.Join(", ", Extensions);
        if (top.Length > 0 && classes.Length > 0)
            throw new DataFormatException($"Folder '{folder}' holds image files both at its top level (e.g. " +
                $"'{Path.GetFileName(top.Min(StringComparer.Ordinal))}') and in subfolders (e.g. '{classes[0].Name}/'), so it " +
                "is neither one unlabelled set nor one subfolder per class. Move the top-level images into a class " +
                "subfolder, or move every image to the top level.");
        if (top.Length == 0 && classes.Length == 0)
            throw new DataFormatException($"Folder '{folder}' holds no image files ({extensions}), neither at its top " +
                $"level nor in subfolders, and no IDX files ({string.Join(", ", DataSources.StandardFiles)}). Put the " +
                "images there (all at the top level, or one subfolder per class), or point RunConfig.Data elsewhere.");

        Entry Make(string path, int label) =>
            new(path, Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/'), label);
        Entry[] files = top.Length > 0
            ? top.Select(p => Make(p, -1)).ToArray()
            : classes.SelectMany((c, label) => c.Files.Select(p => Make(p, label))).ToArray();
        Array.Sort(files, (a, b) => string.CompareOrdinal(a.Relative, b.Relative));
        if (files.Length < 2)
            throw new DataFormatException($"Folder '{folder}' holds only one image file ('{files[0].Relative}'); a data " +
                "set needs at least 2, one to train on and one to test. Add more images.");
        return (files, classes.Select(c => c.Name).ToArray(), skipped);
    }

    /// <summary>
    /// The files in <paramref name="classFolder"/> and its subfolders, sorted, without entering a link to a folder: such
    /// a link could lead round a loop or out of the data set, and is named in <paramref name="skipped"/> instead.
    /// </summary>
    static List<string> FilesBelow(string classFolder, string root, List<string> skipped)
    {
        var files = new List<string>();
        var pending = new Stack<string>([classFolder]);
        while (pending.Count > 0)
        {
            string folder = pending.Pop();
            files.AddRange(Readable(Directory.EnumerateFiles(folder, "*", TopLevel), root, skipped));
            foreach (var sub in Readable(Directory.EnumerateDirectories(folder, "*", TopLevel), root, skipped))
            {
                if (new DirectoryInfo(sub).LinkTarget is string target)
                    skipped.Add($"'{Path.GetRelativePath(root, sub)}' links to the folder '{target}'; links to folders inside a class folder are not followed.");
                else
                    pending.Push(sub);
            }
        }
        return files;
    }

    /// <summary>
    /// The entries that can be opened by their name: on Unix a name that is not valid UTF-8 comes back with U+FFFD in
    /// place of its bad bytes, under which no file exists, so it is skipped and named in <paramref name="skipped"/>.
    /// </summary>
    static IEnumerable<string> Readable(IEnumerable<string> entries, string root, List<string> skipped)
    {
        foreach (var entry in entries)
        {
            if (entry.Contains('\uFFFD') && !File.Exists(entry) && !Directory.Exists(entry))
                skipped.Add($"'{Path.GetRelativePath(root, entry)}' is skipped: its name is not valid UTF-8, so it cannot be opened by name. Rename it to load it.");
            else
                yield return entry;
        }
    }

    /// <summary>The shorter side of the images, when they all have the same width and height.</summary>
    static int CommonSide(string folder, Entry[] files, long limit)
    {
        var sizes = new SKSizeI[files.Length];
        ForEachInOrder(files.Length, i =>
        {
            using var stream = OpenStream(files[i]);
            using var codec = SKCodec.Create(stream, out var result) ?? throw Undecodable(files[i], result);
            sizes[i] = CheckSize(files[i], codec.Info.Size, limit);
        });
        int other = Array.FindIndex(sizes, s => s != sizes[0]);
        if (other >= 0)
            throw new DataFormatException($"Image files in '{folder}' differ in size: '{files[0].Relative}' is " +
                $"{Describe(sizes[0])} but '{files[other].Relative}' is {Describe(sizes[other])}. Pass RunConfig.ImageSize = N " +
                "to crop every image to a centred square and resize it to N×N.");
        return Math.Min(sizes[0].Width, sizes[0].Height);
    }

    static void CheckFits(string folder, int count, int channels, int size)
    {
        // The whole set is one array, and each image is resized through one RGBA bitmap.
        if ((long)count * channels * size * size > Array.MaxLength || 4L * size * size > Array.MaxLength)
            throw new DataFormatException($"Folder '{folder}': {count} images of {size}×{size} with {channels} " +
                $"channel{(channels == 1 ? "" : "s")} do not fit in memory as one array. Pass a smaller RunConfig.ImageSize.");
    }

    /// <summary>
    /// Decodes one file and writes its centred square, resized to size×size, into <paramref name="rgb"/> as three
    /// planes R, G, B; returns whether the decoded image is grey.
    /// </summary>
    static bool Render(Entry file, int size, Span<byte> rgb, long limit)
    {
        using var data = ReadData(file);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var result) ?? throw Undecodable(file, result);
        var full = CheckSize(file, codec.Info.Size, limit);

        // JPEG decodes at 1/8 … 8/8 of its size for little cost: take the smallest that keeps 2·size pixels a side.
        var dims = full;
        int wanted = Math.Min(Math.Min(full.Width, full.Height), 2 * size);
        for (int eighths = 1; eighths < 8; eighths++)
        {
            var scaled = codec.GetScaledDimensions(eighths / 8f);
            if (Math.Min(scaled.Width, scaled.Height) >= wanted)
            {
                dims = scaled;
                break;
            }
        }
        var info = new SKImageInfo(dims.Width, dims.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
            throw Undecodable(file, result);
        bool grey = IsGrey(decoded);

        int side = Math.Min(dims.Width, dims.Height);
        var crop = SKRect.Create((dims.Width - side) / 2, (dims.Height - side) / 2, side, side);
        var sampling = side > size ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : side < size ? new SKSamplingOptions(SKCubicResampler.Mitchell)
            : new SKSamplingOptions(SKFilterMode.Nearest);
        using var resized = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var image = SKImage.FromPixels(decoded.PeekPixels()))
        using (var canvas = new SKCanvas(resized))
        {
            // Premultiplied colour drawn over opaque black is the composite on black.
            canvas.Clear(SKColors.Black);
            canvas.SetMatrix(Orientation(codec.EncodedOrigin, size));
            canvas.DrawImage(image, crop, SKRect.Create(size, size), sampling);
            canvas.Flush();
        }

        ReadOnlySpan<byte> pixels = resized.GetPixelSpan();
        int plane = size * size, rowBytes = resized.RowBytes;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int from = y * rowBytes + 4 * x, to = y * size + x;
                rgb[to] = pixels[from];
                rgb[plane + to] = pixels[from + 1];
                rgb[2 * plane + to] = pixels[from + 2];
            }
        return grey;
    }

    static bool IsGrey(SKBitmap bitmap)
    {
        ReadOnlySpan<byte> pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < pixels.Length; i += 4)
        {
            int r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
            if (Math.Abs(r - g) > GreyTolerance || Math.Abs(g - b) > GreyTolerance || Math.Abs(r - b) > GreyTolerance)
                return false;
        }
        return true;
    }

    /// <summary>Maps the stored square of side <paramref name="size"/> to how its EXIF origin says it is to be seen.</summary>
    static SKMatrix Orientation(SKEncodedOrigin origin, float size) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, size, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, size, 0, -1, size, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, size, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, size, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, size, -1, 0, size, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, size, 0, 0, 1),
        _ => SKMatrix.Identity,
    };

    /// <summary>A permutation of 0 … n − 1 (<see cref="Permutation"/>) driven by SplitMix64 from <paramref name="seed"/>.</summary>
    internal static int[] Shuffle(int n, int seed)
    {
        var order = new int[n];
        ulong state = (ulong)seed ^ 0x5DEECE66DUL;
        Permutation.Shuffle(order, i => (int)Math.BigMul(SplitMix64(ref state), (ulong)(i + 1), out _));
        return order;
    }

    static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for 0 … n − 1 in parallel. When some throw <see cref="DataFormatException"/>, the
    /// one of the lowest index is rethrown: every lower index has run by then, so which one does not depend on timing.
    /// </summary>
    static void ForEachInOrder(int n, Action<int> body)
    {
        var errors = new DataFormatException?[n];
        Parallel.For(0, n, (i, loop) =>
        {
            if (loop.LowestBreakIteration < i)
                return;
            try
            {
                body(i);
            }
            catch (DataFormatException e)
            {
                errors[i] = e;
                loop.Break();
            }
        });
        foreach (var error in errors)
            if (error is not null)
                ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>The size the header declares, checked before any pixel is decoded: at least <see cref="MinSide"/> a side, at most <paramref name="limit"/> pixels.</summary>
    static SKSizeI CheckSize(Entry file, SKSizeI size, long limit)
    {
        if (size.Width < MinSide || size.Height < MinSide)
            throw new DataFormatException($"Image file '{file.Path}' is {Describe(size)}; images must be at least " +
                $"{MinSide}×{MinSide} pixels. Remove it from the folder.");
        if ((long)size.Width * size.Height > limit)
            throw new DataFormatException($"Image file '{file.Path}' declares {Describe(size)}, more than the limit of {limit:N0} pixels " +
                $"(decoding it would take {4.0 * size.Width * size.Height / (1 << 20):N0} MB). Remove or shrink it, or raise the limit with " +
                $"the environment variable {DataOptions.MaxImagePixelsVariable} (DataOptions.MaxImagePixels).");
        return size;
    }

    static string Describe(SKSizeI size) => $"{size.Width}×{size.Height} pixels (width×height)";

    static Stream OpenStream(Entry file)
    {
        try
        {
            return File.OpenRead(file.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(file, e);
        }
    }

    static SKData ReadData(Entry file)
    {
        try
        {
            return SKData.CreateCopy(File.ReadAllBytes(file.Path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(file, e);
        }
    }

    static DataFormatException Unreadable(Entry file, Exception e) =>
        new($"Image file '{file.Path}' cannot be read ({e.Message}). Check its permissions, or remove it from the folder.", e);

    static DataFormatException Undecodable(Entry file, SKCodecResult result) =>
        new($"Image file '{file.Path}' cannot be decoded ({result}): it is damaged, truncated or not an image. " +
            "Replace it with a valid PNG or JPEG file, or remove it from the folder.");
}
