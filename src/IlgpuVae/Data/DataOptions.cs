namespace IlgpuVae.Data;

/// <summary>How <see cref="DataSources.Load"/> builds or finds a data set.</summary>
public sealed record DataOptions
{
    /// <summary>
    /// Seed of the sprites generator (the test set uses a seed derived from it), and of the shuffle that splits a
    /// folder of image files into train and test.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>Sprites generated for the training set.</summary>
    public int SpritesTrain { get; init; } = 20000;
    /// <summary>Sprites generated for the test set.</summary>
    public int SpritesTest { get; init; } = 2000;
    /// <summary>The side of the square sprite images.</summary>
    public int SpritesSize { get; init; } = 28;

    /// <summary>
    /// The side S of the square images made from a folder of image files (each is centre-cropped to a square and
    /// resized to S×S); null: the images' own size, when they all share one. Other sources keep their size, and
    /// refuse a different one.
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>
    /// Channels of the images made from a folder of image files: 1 (grey-scale) or 3 (RGB); null: 1 when every
    /// decoded image is grey, else 3. Other sources are grey-scale, and refuse 3.
    /// </summary>
    public int? Channels { get; init; }

    /// <summary>The fraction of a folder of image files held out as the test set, in (0, 1); other sources have their own split.</summary>
    public double TestFraction { get; init; } = 0.1;

    /// <summary>
    /// The most pixels (width × height, as the file's header declares them) an image file of a folder may have: a larger
    /// one is refused by name before any pixel is decoded, as decoding it could take gigabytes (a decompression bomb
    /// is a few kilobytes of PNG). Default <see cref="DefaultMaxImagePixels"/>, or the environment variable
    /// <see cref="MaxImagePixelsVariable"/> where set.
    /// </summary>
    public long MaxImagePixels { get; init; } =
        long.TryParse(Environment.GetEnvironmentVariable(MaxImagePixelsVariable), out long limit) && limit > 0 ? limit : DefaultMaxImagePixels;

    /// <summary>The default of <see cref="MaxImagePixels"/>: 40 megapixels (160 MB decoded), more than any camera photo of 2026 needs.</summary>
    public const long DefaultMaxImagePixels = 40_000_000;

    /// <summary>The environment variable that sets <see cref="MaxImagePixels"/> for the command line.</summary>
    public const string MaxImagePixelsVariable = "ILGPUVAE_MAX_IMAGE_PIXELS";

    /// <summary>Where to report what was loaded from where, and downloads; null for silence.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Whether a named data set found in no folder may be downloaded into the cache folder.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Folders to search for a named data set instead of the default ones (for tests).</summary>
    public IReadOnlyList<string>? SearchFolders { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when <see cref="ImageSize"/>, <see cref="Channels"/> or <see cref="TestFraction"/> is out of range.</summary>
    public DataOptions Validate()
    {
        if (ImageSize is <= 0)
            throw new ArgumentException($"The image size must be positive; got {ImageSize}.", nameof(ImageSize));
        if (Channels is not (null or 1 or 3))
            throw new ArgumentException($"Images have 1 channel (grey-scale) or 3 (RGB); got {Channels}.", nameof(Channels));
        if (!(TestFraction > 0 && TestFraction < 1))
            throw new ArgumentException($"The test fraction must lie strictly between 0 and 1; got {TestFraction}.", nameof(TestFraction));
        if (MaxImagePixels <= 0)
            throw new ArgumentException($"The largest image must have a positive number of pixels; got {MaxImagePixels}.", nameof(MaxImagePixels));
        return this;
    }
}
