namespace IlgpuVae.Data;

/// <summary>How <see cref="DataSources.Load"/> builds or finds a data set.</summary>
public sealed record DataOptions
{
    /// <summary>Seed of the sprites generator; the test set uses a seed derived from it.</summary>
    public int Seed { get; init; }

    public int SpritesTrain { get; init; } = 20000;
    public int SpritesTest { get; init; } = 2000;
    public int SpritesSize { get; init; } = 28;

    /// <summary>Where to report what was loaded from where, and downloads; null for silence.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Whether a named data set found in no folder may be downloaded into the cache folder.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Folders to search for a named data set instead of the default ones (for tests).</summary>
    public IReadOnlyList<string>? SearchFolders { get; init; }
}
