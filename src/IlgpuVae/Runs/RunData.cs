using IlgpuVae.Data;

namespace IlgpuVae.Runs;

/// <summary>The data of a run, as its config names it: loaded, limited and checked.</summary>
internal static class RunData
{
    /// <summary>Train and test sets for <paramref name="config"/> (<paramref name="dataOverride"/> replaces its --data).</summary>
    public static (ImageSet Train, ImageSet Test) Load(RunConfig config, string? dataOverride = null, TextWriter? log = null)
    {
        var defaults = new DataOptions();
        var (train, test) = DataSources.Load(Source(config, dataOverride), new DataOptions
        {
            Seed = (int)config.Seed,
            SpritesTrain = config.TrainLimit > 0 ? config.TrainLimit : defaults.SpritesTrain,
            SpritesTest = config.TestLimit > 0 ? config.TestLimit : defaults.SpritesTest,
            ImageSize = config.ImageSize,
            Channels = config.ImageChannels,
            TestFraction = config.TestFraction,
            Log = log,
        });
        train = Limit(train, config.TrainLimit);
        test = Limit(test, config.TestLimit);
        ImageSet.Validate(train);
        ImageSet.Validate(test);
        config.RequireTrainedShape(test, "The data's images");
        return (train, test);
    }

    /// <summary>
    /// Where a run's data is: <paramref name="dataOverride"/> when given; else the absolute path training recorded
    /// (<see cref="RunConfig.DataPath"/>) while it exists, so the working directory does not matter; else the data as typed.
    /// </summary>
    internal static string Source(RunConfig config, string? dataOverride)
    {
        if (dataOverride is not null) return dataOverride;
        if (config.DataPath is not string path) return config.Data;
        if (Directory.Exists(path) || File.Exists(path)) return path;
        if (!DataSources.IsName(config.Data) && (Directory.Exists(config.Data) || File.Exists(config.Data))) return config.Data;
        throw new DataNotFoundException($"The run's data (--data {config.Data}) is no longer at {path}. " +
                                        "Point eval or sample to where it is now with --data, or put it back there to resume.");
    }

    /// <summary>The absolute path of data given as a file or folder, for <see cref="RunConfig.DataPath"/>; null for a named set.</summary>
    internal static string? PathOf(string spec) => DataSources.IsName(spec) ? null : Path.GetFullPath(spec.Trim());

    static ImageSet Limit(ImageSet set, int limit) => limit > 0 && limit < set.Count ? set.Slice(0, limit) : set;
}
