using IlgpuVae.Data;

namespace IlgpuVae.Runs;

/// <summary>The data of a run, as its config names it: loaded, limited and checked.</summary>
internal static class RunData
{
    /// <summary>Train and test sets for <paramref name="config"/> (<paramref name="dataOverride"/> replaces its --data).</summary>
    public static (ImageSet Train, ImageSet Test) Load(RunConfig config, string? dataOverride = null, TextWriter? log = null)
    {
        var defaults = new DataOptions();
        var (train, test) = DataSources.Load(dataOverride ?? config.Data, new DataOptions
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

    static ImageSet Limit(ImageSet set, int limit) => limit > 0 && limit < set.Count ? set.Slice(0, limit) : set;
}
