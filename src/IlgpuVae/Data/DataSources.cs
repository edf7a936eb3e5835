using System.Diagnostics;

namespace IlgpuVae.Data;

/// <summary>
/// Resolves a <c>--data</c> argument to a train and a test <see cref="ImageSet"/>:
/// <list type="bullet">
/// <item><c>sprites</c>: <see cref="Sprites.Generate"/> with <see cref="DataOptions.Seed"/> for train and a derived
/// seed for test, so the two sets hold different images.</item>
/// <item><c>fashion-mnist</c>, <c>mnist</c>: the four standard IDX files (<see cref="StandardFiles"/>, each plain or
/// <c>.gz</c>), from the first of these folders that holds all four: <c>./data/NAME</c>, <c>./data</c>, the cache
/// folder (<c>$XDG_CACHE_HOME/ilgpuvae/NAME</c>, else <c>~/.cache/ilgpuvae/NAME</c>), <c>/usr/share/datasets/NAME</c>
/// (Debian's <c>dataset-fashion-mnist</c>) — or <see cref="DataOptions.SearchFolders"/> instead. Found nowhere, they
/// are downloaded into the cache folder when <see cref="DataOptions.AllowDownload"/>, checked against the
/// published MD5s; otherwise a <see cref="DataNotFoundException"/> says where to put them.</item>
/// <item>a folder holding any of the four standard files: those files; or the path of an images file: that file is
/// the training images, and the test images and both labels files are its siblings by the standard names. Test
/// images are required; a missing labels file gives labels -1. Label names are unknown (empty) for paths.</item>
/// <item>any other folder: PNG and JPEG files, flat or in class subfolders, split into train and test by a seeded
/// shuffle (<see cref="ImageFolder"/>, with <see cref="DataOptions.ImageSize"/>, <see cref="DataOptions.Channels"/>
/// and <see cref="DataOptions.TestFraction"/>).</item>
/// </list>
/// Names match case-insensitively and win over a folder of the same name. Anything else, or a file in a wrong
/// format, throws <see cref="DataFormatException"/>. Train and test images always have the same channels, height and
/// width; an <see cref="DataOptions.ImageSize"/> or <see cref="DataOptions.Channels"/> that a source other than a
/// folder of image files does not already have is refused, since only image folders are resized and converted.
/// </summary>
public static class DataSources
{
    /// <summary>The names, without .gz, of an MNIST-family data set's four IDX files.</summary>
    public const string TrainImages = "train-images-idx3-ubyte", TrainLabels = "train-labels-idx1-ubyte",
        TestImages = "t10k-images-idx3-ubyte", TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>The four files of an MNIST-family data set, in the order of the checksums below.</summary>
    public static readonly IReadOnlyList<string> StandardFiles = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>What RunConfig.Data takes, for the messages that refuse something else.</summary>
    const string Accepted = "sprites, fashion-mnist, mnist, a folder of PNG or JPEG files (flat or one subfolder per class), " +
        "a folder holding the four IDX files, or the path of a train-images-idx3-ubyte[.gz] file";

    /// <summary>Added to the seed for the sprites test set (a large prime, so nearby seeds do not overlap).</summary>
    public const int SpritesTestSeedOffset = 1_000_003;

    sealed record Known(string Name, string[] LabelNames, string BaseUrl, string[] Md5s);

    static readonly Known[] KnownSets =
    [
        new("fashion-mnist",
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
             "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]),
        new("mnist",
            ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
             "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]),
    ];

    /// <summary>Whether <paramref name="spec"/> names a data set (sprites, fashion-mnist, mnist) rather than a path.</summary>
    internal static bool IsName(string spec) =>
        spec.Trim().Equals("sprites", StringComparison.OrdinalIgnoreCase) || KnownSets.Any(k => k.Name.Equals(spec.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Loads the data set named or pointed to by <paramref name="spec"/>; see the type's summary.</summary>
    public static (ImageSet Train, ImageSet Test) Load(string spec, DataOptions options)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        string trimmed = spec.Trim();
        Known? known = KnownSets.FirstOrDefault(k => k.Name.Equals(trimmed, StringComparison.OrdinalIgnoreCase));
        var (train, test) =
            trimmed.Equals("sprites", StringComparison.OrdinalIgnoreCase) ? GenerateSprites(options)
            : known is not null ? LoadKnown(known, options)
            : Directory.Exists(trimmed) && !HoldsIdxFiles(trimmed) ? ImageFolder.Load(trimmed, options)
            : Directory.Exists(trimmed) || File.Exists(trimmed) ? LoadPath(trimmed)
            : throw new DataFormatException($"Unknown data set '{spec}': no such file or folder either. Use {Accepted}.");
        if (train.Channels != test.Channels || train.Height != test.Height || train.Width != test.Width)
            throw new DataFormatException($"Data set '{spec}': train images are {train.Shape} but test " +
                $"images are {test.Shape}. Use train and test files of the same data set.");
        if (options.ImageSize is int size && (train.Height != size || train.Width != size))
            throw new DataFormatException($"Data set '{spec}' has images of {train.Height}×{train.Width}, not the " +
                $"{size}×{size} asked for; only a folder of image files is resized. Leave out RunConfig.ImageSize for this data set.");
        if (options.Channels is int channels && train.Channels != channels)
            throw new DataFormatException($"Data set '{spec}' has images with {train.Channels} channel" +
                $"{(train.Channels == 1 ? "" : "s")}, not the {channels} asked for; only a folder of image files is " +
                "converted. Leave out RunConfig.ImageChannels for this data set.");
        options.Log?.WriteLine($"data: {train.Name} ({train.Count}) and {test.Name} ({test.Count}), " +
            $"{train.Shape}, in {clock.Elapsed.TotalSeconds:F2} s");
        return (train, test);
    }

    static (ImageSet, ImageSet) GenerateSprites(DataOptions o) =>
        (Sprites.Generate(o.SpritesTrain, o.Seed, o.SpritesSize),
         Sprites.Generate(o.SpritesTest, unchecked(o.Seed + SpritesTestSeedOffset), o.SpritesSize));

    static (ImageSet, ImageSet) LoadKnown(Known known, DataOptions options)
    {
        string? cache = CacheFolder(known.Name);
        IReadOnlyList<string> folders = options.SearchFolders
            ?? [Path.Combine("data", known.Name), "data", .. cache is null ? Array.Empty<string>() : [cache], $"/usr/share/datasets/{known.Name}"];
        foreach (string folder in folders)
            if (StandardFiles.All(f => Find(folder, f) is not null))
                return LoadFolder(folder, known.Name, known.LabelNames, options.Log);

        string download = !options.AllowDownload ? "Downloading was not tried (disabled)."
            : "Downloading was not tried: there is no cache folder to keep the files in (the home folder does not exist; set XDG_CACHE_HOME).";
        if (options.AllowDownload && cache is not null)
        {
            try
            {
                DataDownloader.Download(known.BaseUrl, [.. StandardFiles.Zip(known.Md5s, (f, m) => (f + ".gz", m))],
                    cache, options.Log);
                return LoadFolder(cache, known.Name, known.LabelNames, options.Log);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException
                or UnauthorizedAccessException or DataFormatException)
            {
                download = $"Downloading from {known.BaseUrl} failed: {e.Message.TrimEnd('.')}.";
            }
        }
        string apt = known.Name == "fashion-mnist"
            ? " On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` provides them in /usr/share/datasets/fashion-mnist."
            : "";
        throw new DataNotFoundException($"Data set '{known.Name}' was not found. Searched: " +
            $"{string.Join(", ", folders.Select(Path.GetFullPath))}. {download} Put the four files " +
            $"{string.Join(", ", StandardFiles)} (each plain or .gz) in one of those folders" +
            $"{(cache is not null && folders.Contains(cache) ? $", e.g. {cache}," : "")} or give RunConfig.Data a folder.{apt}");
    }

    /// <summary>Whether any of the four standard IDX files (plain or .gz) is in <paramref name="folder"/>.</summary>
    static bool HoldsIdxFiles(string folder) => StandardFiles.Any(f => Find(folder, f) is not null);

    static (ImageSet, ImageSet) LoadPath(string path)
    {
        if (File.Exists(path) && ImageFolder.IsImageFile(path))
            throw new DataFormatException($"'{path}' is a single image file; RunConfig.Data takes a folder of image files " +
                "(flat, or one subfolder per class). Point it at the folder that holds this file.");
        if (File.Exists(path) && !StartsLikeIdx(path))
            throw new DataFormatException($"'{path}' is not a data set: an IDX file starts with 0x00 0x00 (or is gzipped), and this one does not. " +
                $"RunConfig.Data takes {Accepted}.");
        bool isFolder = Directory.Exists(path);
        string folder = isFolder ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        string trainImages = isFolder ? Require(folder, TrainImages) : path;
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        string testImages = Require(folder, TestImages);
        return (IdxReader.LoadImages(trainImages, Find(folder, TrainLabels), $"{name}/train", []),
                IdxReader.LoadImages(testImages, Find(folder, TestLabels), $"{name}/test", []));
    }

    /// <summary>Whether the file begins as an IDX file does (0x00 0x00) or as gzip does (0x1f 0x8b); the reader checks the rest.</summary>
    static bool StartsLikeIdx(string path)
    {
        Span<byte> head = stackalloc byte[2];
        using var file = File.OpenRead(path);
        return file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && (head is [0, 0] || head is [0x1f, 0x8b]);
    }

    static (ImageSet, ImageSet) LoadFolder(string folder, string name, string[] labelNames, TextWriter? log)
    {
        log?.WriteLine($"data: reading {name} from {Path.GetFullPath(folder)}");
        return (IdxReader.LoadImages(Require(folder, TrainImages), Require(folder, TrainLabels), $"{name}/train", labelNames),
                IdxReader.LoadImages(Require(folder, TestImages), Require(folder, TestLabels), $"{name}/test", labelNames));
    }

    /// <summary>The path of <c>folder/file</c>, or else of <c>folder/file.gz</c>, or null when neither exists.</summary>
    static string? Find(string folder, string file)
    {
        string plain = Path.Combine(folder, file);
        return File.Exists(plain) ? plain : File.Exists(plain + ".gz") ? plain + ".gz" : null;
    }

    static string Require(string folder, string file) => Find(folder, file) ?? throw new DataNotFoundException(
        $"Neither {file} nor {file}.gz is in '{Path.GetFullPath(folder)}'. Put the file there, or point RunConfig.Data elsewhere.");

    /// <summary>
    /// <c>$XDG_CACHE_HOME/ilgpuvae/NAME</c> when that variable holds an absolute path (as XDG requires), else
    /// <c>~/.cache/ilgpuvae/NAME</c>; null without a home folder (.NET gives an empty path for one that does not exist,
    /// which would put the cache in the working directory).
    /// </summary>
    static string? CacheFolder(string name)
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string? root = Path.IsPathRooted(xdg) ? xdg
            : Path.IsPathRooted(home) ? Path.Combine(home, ".cache")
            : null;
        return root is null ? null : Path.Combine(root, "ilgpuvae", name);
    }
}
