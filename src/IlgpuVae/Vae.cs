using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Export;
using IlgpuVae.Model;
using IlgpuVae.Runs;

namespace IlgpuVae;

/// <summary>
/// A trained VAE on an accelerator, for use from code: train it on images in memory or on a data set named in the
/// options, continue or load a run folder, then encode, decode, sample, evaluate, save and export it to ONNX.
/// Images are float arrays of values in [0, 1], image after image, each C·H·W values channel-major (NCHW);
/// codes are <see cref="LatentDim"/> values per image. Not thread-safe: use one instance from one thread at a
/// time. Dispose it to free the device; after that every member throws <see cref="ObjectDisposedException"/>. Inputs are
/// checked as the command line checks them: pixels in [0, 1], codes finite, whole images and codes.
/// </summary>
public sealed class Vae : IDisposable
{
    readonly TrainedModel model;
    bool disposed;

    Vae(TrainedModel trained) => model = trained;

    /// <summary>The model, while it lives: checked before anything touches the device, whose freed buffers ILGPU would assert on.</summary>
    TrainedModel Live => disposed
        ? throw new ObjectDisposedException(nameof(Vae), "This Vae was disposed, which freed its model and accelerator; load or train another.")
        : model;

    /// <summary>The run's settings, resolved: α, λ, the kernel parameter, the decoder's sizes and the image shape are filled in.</summary>
    public RunConfig Config => Live.Config;

    /// <summary>The shape of one image.</summary>
    public ImageShape Image => Live.Config.Image;

    /// <summary>Values per code z.</summary>
    public int LatentDim => Live.Model.Spec.LatentDim;

    /// <summary>The run folder it was trained into or loaded from; null for a model trained in memory.</summary>
    public string? Folder => Live.Folder?.Path;

    /// <summary>
    /// Whether training ended early because <c>stop</c> was cancelled: the run folder (if any) holds the weights and
    /// training state of the step it stopped after, and <see cref="Resume"/> continues from there.
    /// </summary>
    public bool Stopped => Live.Stopped;

    /// <summary>The accelerator it runs on, in words.</summary>
    public string Device => Live.Device.Describe();

    internal TrainedModel Trained => Live;

    /// <summary>
    /// Trains a new model on <paramref name="train"/>, reporting its loss on <paramref name="test"/> after each
    /// epoch. With <paramref name="runFolder"/> it is a run like the command line's (config, metrics, checkpoints,
    /// pictures; <see cref="Resume"/> continues it); without, nothing is written. <paramref name="stop"/> ends
    /// training after the step in progress. Bad settings or data throw <see cref="ArgumentException"/> or
    /// <see cref="DataFormatException"/> before any work.
    /// </summary>
    public static Vae Train(ImageSet train, ImageSet test, RunConfig options, string? runFolder = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken stop = default) =>
        new(TrainingSession.Train(new(new ProgressObserver(progress), stop) { Config = options with { Data = train.Name }, Data = (train, test), OutFolder = runFolder }));

    /// <summary>
    /// Trains a new model on the data set <paramref name="options"/> names (<see cref="RunConfig.Data"/>: sprites,
    /// fashion-mnist, mnist, a folder of IDX files or of images), as <c>train --data</c> does.
    /// </summary>
    public static Vae Train(RunConfig options, string? runFolder = null, IProgress<TrainingProgress>? progress = null, CancellationToken stop = default) =>
        new(TrainingSession.Train(new(new ProgressObserver(progress), stop) { Config = options, OutFolder = runFolder }));

    /// <summary>
    /// Continues the run in <paramref name="runFolder"/> to <paramref name="epochs"/> in total (default: its own),
    /// from the step its checkpoint was saved at; a run stopped before its first checkpoint starts over. A run trained
    /// on images in memory needs them again as <paramref name="data"/>.
    /// </summary>
    public static Vae Resume(string runFolder, int? epochs = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken stop = default, (ImageSet Train, ImageSet Test)? data = null) =>
        new(TrainingSession.Train(new(new ProgressObserver(progress), stop) { Data = data, ResumeFolder = runFolder, Epochs = epochs }));

    /// <summary><see cref="Train(RunConfig, string?, IProgress{TrainingProgress}?, CancellationToken)"/> as one process of a data-parallel job (<paramref name="processes"/>: MPI, or one process alone).</summary>
    internal static Vae TrainAsProcess(RunConfig options, string? runFolder, IProgress<TrainingProgress>? progress, CancellationToken stop, Training.IProcessLink processes) =>
        new(TrainingSession.Train(new(new ProgressObserver(progress), stop) { Config = options, OutFolder = runFolder, Processes = processes }));

    /// <summary>
    /// <see cref="Resume"/> as one process of a data-parallel job: every process reads the run folder's config.json and
    /// passes it through <paramref name="adjust"/> (the command line's options that may change on resume, or a refusal).
    /// </summary>
    internal static Vae ResumeAsProcess(string runFolder, Func<RunConfig, RunConfig> adjust, IProgress<TrainingProgress>? progress, CancellationToken stop,
        Training.IProcessLink processes) =>
        new(TrainingSession.Train(new(new ProgressObserver(progress), stop) { ResumeFolder = runFolder, Processes = processes, AdjustResumed = adjust }));

    /// <summary>
    /// Opens a trained model: a run folder, or a .safetensors checkpoint with the config.json that describes it.
    /// <paramref name="device"/> (auto, cpu, cuda, opencl, cuda:N) defaults to the run's.
    /// </summary>
    public static Vae Load(string path, string? configPath = null, string? device = null) =>
        new(TrainedModel.Open(path, configPath, device, InferenceBatch));

    internal static Vae Open(string path, string? configPath, string? device, Func<RunConfig, int> batchSize, Compute.KernelChoice kernels) =>
        new(TrainedModel.Open(path, configPath, device, batchSize, kernels));

    // Inference runs in chunks of this many images.
    const int InferenceBatch = 128;

    /// <summary>
    /// The posterior q(z|x) = N(μ, exp(log σ²)) of each image: μ and log σ², <see cref="LatentDim"/> values per
    /// image. With an IAF posterior this is the Gaussian the flow starts from; <see cref="Codes"/> gives the codes.
    /// </summary>
    public (float[] Mu, float[] LogVar) Encode(ReadOnlySpan<float> images)
    {
        var (mu, logVar, _) = VaeInference.Encode(Live.Model, Pixels(images), Count(images.Length, Image.Size, "images", "C·H·W values"));
        return (mu, logVar);
    }

    /// <summary>Each image's code at ε = 0: μ, or with an IAF posterior μ carried through the flow; <see cref="LatentDim"/> values per image.</summary>
    public float[] Codes(ReadOnlySpan<float> images) =>
        VaeInference.Encode(Live.Model, Pixels(images), Count(images.Length, Image.Size, "images", "C·H·W values")).Codes;

    /// <summary>
    /// Images decoded from codes: pixel means in [0, 1] (σ of the logits, or the clamped Gaussian mean). An
    /// autoregressive decoder (MADE or PixelCNN) draws its values one by one instead, with draws keyed by
    /// <paramref name="seed"/> (default: the run's).
    /// </summary>
    public float[] Decode(ReadOnlySpan<float> codes, long? seed = null) =>
        VaeInference.Decode(Live.Model, FiniteCodes(codes), Count(codes.Length, LatentDim, "codes", "LatentDim values"), (ulong)(seed ?? Config.Seed));

    /// <summary>The decoder's raw output for codes: logits (Bernoulli) or means (Gaussian), as the ONNX decoder gives.</summary>
    public float[] DecodeOutput(ReadOnlySpan<float> codes) =>
        VaeInference.DecodeOutput(Live.Model, FiniteCodes(codes), Count(codes.Length, LatentDim, "codes", "LatentDim values"));

    /// <summary><paramref name="count"/> images decoded from z ~ N(0, I); the same seed gives the run's samples.png.</summary>
    public float[] Sample(int count, long? seed = null)
    {
        var model = Live.Model;
        if (count <= 0) throw new ArgumentException($"The sample count must be positive; got {count}.");
        ulong key = (ulong)(seed ?? Config.Seed);
        return VaeInference.Decode(model, RunPictures.HostNormal(key, count * LatentDim), count, key);
    }

    /// <summary>
    /// The test-set numbers <c>eval</c> reports (−ELBO, IWAE NLL, bits per dimension, mutual information, active
    /// units, aggregate MMD, KL per dimension) with the run's objective and seed.
    /// </summary>
    public EvalResult Evaluate(ImageSet test, EvalOptions? options = null)
    {
        var live = Live;
        ImageSet.Validate(test);
        Config.RequireTrainedShape(test, "The test images");
        return EvalReport.Run(live, test, (options ?? new EvalOptions()).Validate());
    }

    /// <summary>
    /// Writes config.json and model.safetensors — the settings and the weights, nothing else — into
    /// <paramref name="folder"/> (created; one that already holds a run is refused), which <see cref="Load"/>,
    /// <c>eval</c>, <c>sample</c> and <c>export</c> open. Returns its full path. The optimizer's state lives only
    /// while training, so <see cref="Resume"/> refuses such a folder: to continue training later, train with a run
    /// folder (<c>runFolder</c>), whose checkpoints hold it.
    /// </summary>
    public string Save(string folder)
    {
        var live = Live;
        var run = RunFolder.CreateNew(folder, locked: false);
        // The config first: a folder left with only it reads as a run to restart, never as a riddle.
        run.WriteConfig(Config);
        Checkpoint.SaveWeights(run.File(RunFolder.ModelFile), live.Model, step: 0);
        return run.Path;
    }

    /// <summary>
    /// Writes encoder.onnx (x → mu, logvar) and decoder.onnx (z → logits or mean) into <paramref name="folder"/>;
    /// returns their paths. x and the decoder's output are [N, C, H, W] for a conv model, [N, C·H·W] for an MLP.
    /// An autoregressive decoder's decoder.onnx (MADE or PixelCNN) takes x beside z and gives every value's conditional
    /// given the values before it; an IAF posterior's encoder.onnx also gives the flow's context, and a third file, flow.onnx, takes mu,
    /// logvar, context and eps and gives z and log_q = log q(z|x). Existing files are refused; each file is written
    /// whole or not at all.
    /// </summary>
    public IReadOnlyList<string> ExportOnnx(string folder) => OnnxExport.Write(Live.Model, folder);

    /// <summary>Frees the model and its accelerator; a second call does nothing.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        model.Dispose();
    }

    /// <summary>The images as an array, each value checked to lie in [0, 1] (NaN does not), as the data loaders check theirs.</summary>
    float[] Pixels(ReadOnlySpan<float> images)
    {
        int size = Live.Config.Image.Size;
        for (int i = 0; i < images.Length; i++)
            if (!(images[i] >= 0f && images[i] <= 1f))
                throw new ArgumentException($"Image {i / size} has value {i % size} = {images[i]}, outside [0, 1]. Pixels must be intensities scaled to [0, 1]; rescale them (e.g. divide bytes by 255).", nameof(images));
        return images.ToArray();
    }

    /// <summary>The codes as an array, each value checked to be finite.</summary>
    float[] FiniteCodes(ReadOnlySpan<float> codes)
    {
        int size = LatentDim;
        for (int i = 0; i < codes.Length; i++)
            if (!float.IsFinite(codes[i]))
                throw new ArgumentException($"Code {i / size} has value {i % size} = {codes[i]}; codes must be finite numbers.", nameof(codes));
        return codes.ToArray();
    }

    static int Count(int length, int per, string what, string unit)
    {
        if (length == 0 || length % per != 0)
            throw new ArgumentException($"{length} values do not make whole {what} of {per} ({unit}); give a multiple of {per}.");
        return length / per;
    }
}
