using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>
/// Everything that reproduces a training run, as written to the run folder's config.json (each key a property's name in
/// snake_case). Each setting is declared once, on its property (<see cref="SettingAttribute"/>): its option on the
/// command line, help, piece and resume rule (<see cref="RunSettings"/> reads them). <see cref="ModelSpec"/>,
/// <see cref="Objective"/> and <see cref="OptimizerSpec"/> turn the settings into the model, the objective and the optimizer.
/// </summary>
public sealed record RunConfig
{
    /// <summary>The data set (--data): sprites, fashion-mnist, mnist, an IDX folder or file, or a folder of images; for images given in memory, their set's name.</summary>
    [Setting("--data", "sprites, fashion-mnist, mnist, a folder of PNG/JPEG files (flat or one subfolder per class), or a folder / IDX file (gzipped or not)")]
    public string Data { get; init; } = "sprites";
    /// <summary>vae, beta-vae, infovae, mmd-vae (the starting point for α and λ) or beta-tcvae (the KL's decomposition).</summary>
    [Setting("--model", "Objective preset: vae, beta-vae, infovae, mmd-vae, or beta-tcvae (recon + MI + β·TC + DWKL, minibatch-weighted sampling)")]
    public string Model { get; init; } = "infovae";
    /// <summary>α: the KL weight is 1 − α; null takes the preset's.</summary>
    [Setting("--alpha", "α: the KL weight is 1 − α (overrides the preset)")]
    public double? Alpha { get; init; }
    /// <summary>λ: the MMD weight is α + λ − 1; null takes the preset's.</summary>
    [Setting("--lambda", "λ: the MMD weight is α + λ − 1 (overrides the preset)")]
    public double? Lambda { get; init; }
    /// <summary>β of the beta-vae preset (α = 1 − β, λ = β), or of beta-tcvae (the total correlation's weight).</summary>
    [Setting("--beta", "β of the beta-vae preset, or of beta-tcvae (the total correlation's weight)", AppliesTo = Piece.BetaVaePreset)]
    public double Beta { get; init; } = 4;
    /// <summary>beta-tcvae: N, the data set's size in log q(z) ≈ LSE log q(z|xⱼ) − log(N·M); 0 takes the training set's, recorded once known.</summary>
    [Setting("--dataset-size", "beta-tcvae: N in the minibatch-weighted estimate log q(z) ≈ logsumexp_j log q(z|x_j) − log(N·M); 0: the training set's size (recorded)",
        AppliesTo = Piece.BetaTcVaePreset, Since = 4)]
    public int DatasetSize { get; init; }
    /// <summary>The MMD kernel: imq (inverse multiquadric) or rbf.</summary>
    [Setting("--kernel", "MMD kernel: imq or rbf")]
    public string Kernel { get; init; } = "imq";
    /// <summary>The RBF kernel's bandwidth h; null: 1.</summary>
    [Setting("--bandwidth", "RBF bandwidth h (default 1)", AppliesTo = Piece.RbfKernel)]
    public double? Bandwidth { get; init; }
    /// <summary>The IMQ kernel's constant c; null: 2·latent.</summary>
    [Setting("--imq-c", "IMQ constant c (default 2·latent)", AppliesTo = Piece.ImqKernel)]
    public double? ImqC { get; init; }
    /// <summary>The MMD estimator: unbiased or biased.</summary>
    [Setting("--estimator", "MMD estimator: unbiased or biased")]
    public string Estimator { get; init; } = "unbiased";
    /// <summary>Prior draws per batch for the MMD; 0: as many as the batch.</summary>
    [Setting("--prior-samples", "Prior draws per batch for the MMD (0: the batch size)")]
    public int PriorSamples { get; init; }
    /// <summary>
    /// KL warm-up (--kl-warmup): over this many epochs (fractions allowed) the KL weight rises linearly from 0 to 1 − α,
    /// a little every step; 0: none. The MMD weight is not warmed up. A run without the key has none.
    /// </summary>
    [Setting("--kl-warmup", "KL warm-up: the KL weight rises linearly from 0 to 1 − α over N epochs, every step (0: none; the MMD weight is not warmed up)", Since = 1)]
    public double KlWarmupEpochs { get; init; }
    /// <summary>
    /// Free bits (Kingma et al., 2016), in nats per latent dimension: the KL term becomes Σⱼ max(FreeBits, the batch mean of
    /// dimension j's KL), so dimensions at or below it get no KL gradient; 0: none. Needs the Gaussian posterior and one device.
    /// </summary>
    [Setting("--free-bits", "Free bits: the KL term becomes Σ_j max(NATS, batch mean of KL_j); dimensions below get no KL gradient (0: none; Gaussian posterior, one device)", Since = 1)]
    public double FreeBits { get; init; }
    /// <summary>mlp (dense layers only) or conv (strided convolutions first, transposed ones last).</summary>
    [Setting("--arch", "mlp, or conv: strided convolutions (--channels) before the dense layers, transposed ones after", Since = 1)]
    public string Arch { get; init; } = "mlp";
    /// <summary>conv: the encoder's convolutions' output channels, one per layer (the InfoVAE paper's MNIST model: 64, 128).</summary>
    [Setting("--channels", "conv: output channels of the encoder's convolutions, e.g. 64,128", AppliesTo = Piece.Conv, Since = 1)]
    public int[] Channels { get; init; } = [64, 128];
    /// <summary>conv: every convolution's (square) kernel size.</summary>
    [Setting("--conv-kernel", "conv: kernel size of every convolution", AppliesTo = Piece.Conv, Since = 1)]
    public int ConvKernel { get; init; } = 4;
    /// <summary>conv: every convolution's stride.</summary>
    [Setting("--conv-stride", "conv: stride of every convolution", AppliesTo = Piece.Conv, Since = 1)]
    public int ConvStride { get; init; } = 2;
    /// <summary>conv: every convolution's zero padding; null: (kernel − 1)/2.</summary>
    [Setting("--conv-padding", "conv: zero padding of every convolution (default (kernel − 1)/2)", AppliesTo = Piece.Conv, Since = 1)]
    public int? ConvPadding { get; init; }
    /// <summary>The encoder's dense hidden sizes (after the convolutions of a conv model); may be empty.</summary>
    [Setting("--hidden", "Encoder dense hidden sizes, e.g. 512,256 (empty for none; default 400 for mlp, 1024 for conv)", DefaultVaries = true)]
    public int[] Hidden { get; init; } = [400];
    /// <summary>Decoder hidden sizes; null mirrors <see cref="Hidden"/>.</summary>
    [Setting("--decoder-hidden", "Decoder hidden sizes (default: the encoder's, reversed)", AppliesTo = Piece.DenseDecoder)]
    public int[]? DecoderHidden { get; init; }
    /// <summary>Dimensions of the code z.</summary>
    [Setting("--latent", "Latent dimensions")]
    public int Latent { get; init; } = 20;
    /// <summary>mlp (pixels independent given z), made (a MADE over the pixels with z feeding every layer) or pixelcnn (masked convolutions, z in every layer).</summary>
    [Setting("--decoder", "mlp, or an autoregressive decoder p(x|z) = Π p(x_i | x_<i, z) that can model x without z: made (a MADE over the pixels, z in every layer) or pixelcnn (masked convolutions, z in every layer)", Since = 1)]
    public string Decoder { get; init; } = "mlp";
    /// <summary>made decoder: its hidden layers' widths.</summary>
    [Setting("--made-hidden", "made decoder: hidden widths, e.g. 500", AppliesTo = Piece.MadeDecoder, Since = 1)]
    public int[] MadeHidden { get; init; } = [500];
    /// <summary>pixelcnn decoder: the feature channels of its masked convolutions.</summary>
    [Setting("--pixelcnn-channels", "pixelcnn decoder: feature channels of its masked convolutions", AppliesTo = Piece.PixelCnnDecoder, Since = 1)]
    public int PixelcnnChannels { get; init; } = 32;
    /// <summary>pixelcnn decoder: its type-B layers between the first (type-A) layer and the 1×1 output layer.</summary>
    [Setting("--pixelcnn-layers", "pixelcnn decoder: type-B layers after the type-A one", AppliesTo = Piece.PixelCnnDecoder, Since = 1)]
    public int PixelcnnLayers { get; init; } = 4;
    /// <summary>pixelcnn decoder: the (odd) kernel size of its type-B layers.</summary>
    [Setting("--pixelcnn-kernel", "pixelcnn decoder: kernel size (odd) of the type-B layers", AppliesTo = Piece.PixelCnnDecoder, Since = 1)]
    public int PixelcnnKernel { get; init; } = 5;
    /// <summary>pixelcnn decoder: the (odd, at least 3) kernel size of its first, type-A layer.</summary>
    [Setting("--pixelcnn-first-kernel", "pixelcnn decoder: kernel size (odd, ≥ 3) of the first, type-A layer", AppliesTo = Piece.PixelCnnDecoder, Since = 1)]
    public int PixelcnnFirstKernel { get; init; } = 7;
    /// <summary>gaussian (mean field) or iaf (the Gaussian followed by an inverse autoregressive flow).</summary>
    [Setting("--posterior", "gaussian (mean field, analytic KL), or iaf: an inverse autoregressive flow after the Gaussian (single-sample KL estimate)", Since = 1)]
    public string Posterior { get; init; } = "gaussian";
    /// <summary>iaf: the flow's steps.</summary>
    [Setting("--flow-steps", "iaf: flow steps (the order of z reversed between steps)", AppliesTo = Piece.IafPosterior, Since = 1)]
    public int FlowSteps { get; init; } = 2;
    /// <summary>iaf: each step's MADE hidden widths.</summary>
    [Setting("--flow-hidden", "iaf: hidden widths of each step's MADE", AppliesTo = Piece.IafPosterior, Since = 1)]
    public int[] FlowHidden { get; init; } = [64];
    /// <summary>iaf: the size of the context vector the encoder gives every flow step.</summary>
    [Setting("--context-dim", "iaf: size of the context vector the encoder gives every step", AppliesTo = Piece.IafPosterior, Since = 1)]
    public int ContextDim { get; init; } = 32;
    /// <summary>
    /// made decoder and iaf posterior: how their MADEs give hidden units degrees — spread (evenly over 1 … d − 1 whatever
    /// the width, every layer holding the narrowest's) or cyclic (1 + (j mod (d − 1)); see <see cref="Made"/>). A
    /// config.json without the key was written before the choice existed, with the cyclic rule, and reads so (<see cref="FromJson"/>).
    /// </summary>
    [Setting("--made-degrees", "made decoder and iaf posterior: the MADEs' hidden degrees, spread (evenly over 1 … d − 1 at any width) or cyclic (1 + (j mod (d − 1)): the rule of runs whose config.json lacks made_degrees)", AppliesTo = Piece.Mades, Since = 1)]
    [WhenAbsent(LegacyMadeDegrees, "runs from before the choice existed were trained with the cyclic rule, and must rebuild those masks to load their weights")]
    public string MadeDegrees { get; init; } = "spread";
    /// <summary>What a config.json without <c>made_degrees</c> was trained with.</summary>
    public const string LegacyMadeDegrees = "cyclic";
    /// <summary>How the KL term is computed: analytically for the Gaussian posterior, as a single-sample estimate for a flow (written for the reader).</summary>
    [Recorded(1)]
    public string KlTerm => PosteriorKind.Named(Posterior).KlTerm;
    /// <summary>After every hidden layer: relu, leaky_relu, tanh or softplus.</summary>
    [Setting("--activation", "relu, leaky_relu, tanh or softplus")]
    public string Activation { get; init; } = "relu";
    /// <summary>p(x|z): bernoulli (the decoder gives logits) or gaussian (means, with <see cref="ObsLogVar"/>).</summary>
    [Setting("--likelihood", "bernoulli or gaussian")]
    public string Likelihood { get; init; } = "bernoulli";
    /// <summary>The Gaussian likelihood's fixed log-variance.</summary>
    [Setting("--obs-log-var", "gaussian likelihood: the fixed log-variance of p(x|z)", AppliesTo = Piece.GaussianLikelihood)]
    public float ObsLogVar { get; init; }
    /// <summary>Epochs in total (a resumed run continues to this many).</summary>
    [Setting("--epochs", "Epochs in total (with --resume: the saved value unless given)", MayChangeOnResume = true)]
    public int Epochs { get; init; } = 5;
    /// <summary>Images per step.</summary>
    [Setting("--batch-size", "Images per step")]
    public int BatchSize { get; init; } = 128;
    /// <summary>The learning rate.</summary>
    [Setting("--lr", "Learning rate")]
    public double Lr { get; init; } = 1e-3;
    /// <summary>adam, adamw or sgd (with momentum 0.9).</summary>
    [Setting("--optimizer", "adam, adamw or sgd (with momentum 0.9)")]
    public string Optimizer { get; init; } = "adam";
    /// <summary>Decoupled weight decay of adamw (null: 0.01), L2 weight decay of the others (null: 0).</summary>
    [Setting("--weight-decay", "Weight decay: decoupled for adamw (default 0.01), L2 for adam and sgd (default 0)")]
    public double? WeightDecay { get; init; }
    /// <summary>Keys every random draw — initialization, shuffles, ε, prior samples, the test split of image folders.</summary>
    [Setting("--seed", "Seed of every random draw")]
    public long Seed { get; init; } = 1;
    /// <summary>auto (CUDA, then OpenCL, then the CPU), cpu, cuda, opencl, or cuda:N / opencl:N.</summary>
    [Setting("--device", SettingTexts.Devices + "; under mpiexec, cuda or opencl is the GPU of the process's rank on its machine", MayChangeOnResume = true)]
    public string Device { get; init; } = "auto";
    /// <summary>
    /// Data-parallel training on several devices of one kind in this process, replacing <see cref="Device"/>:
    /// cuda:0,cuda:1, cuda:all, opencl:0,opencl:1 or cpu:0,cpu:1 (CPU accelerators, for checks without GPUs); each
    /// replica computes a contiguous shard of every batch of <see cref="BatchSize"/>. Null: one device.
    /// </summary>
    [Setting("--replicas", "Data-parallel training on several devices of one kind instead of --device: cuda:0,cuda:1, cuda:all, or cpu:0,cpu:1 (CPU accelerators); each takes a share of every batch", MayChangeOnResume = true, Excludes = nameof(Device), Since = 1)]
    public string? Replicas { get; init; }
    /// <summary>fastest (the device's own kernels) or portable (a GPU's kernels and launch shapes on any device).</summary>
    [Setting("--kernels", SettingTexts.KernelSets, MayChangeOnResume = true, Since = 1)]
    public string Kernels { get; init; } = "fastest";
    /// <summary>none, or dynamic: a fresh Bernoulli draw of every pixel each epoch.</summary>
    [Setting("--binarize", "none, or dynamic: a fresh Bernoulli draw of each pixel every epoch")]
    public string Binarize { get; init; } = "none";
    /// <summary>Use only the first N training images (0: all); for sprites, generate N.</summary>
    [Setting("--train-limit", "Use only the first N training images (sprites: generate N; 0: all)")]
    public int TrainLimit { get; init; }
    /// <summary>Use only the first N test images (0: all).</summary>
    [Setting("--test-limit", "Use only the first N test images (0: all)")]
    public int TestLimit { get; init; }
    /// <summary>Every N epochs (0: never), add the evaluation's numbers (IWAE NLL, MI, active units, aggregate MMD) to the metrics.</summary>
    [Setting("--eval-every", "Every N epochs add IWAE NLL, MI, active units and aggregate MMD to the metrics (0: never)", MayChangeOnResume = true, Since = 1)]
    public int EvalEvery { get; init; }
    /// <summary>Importance samples per image for that per-epoch IWAE estimate.</summary>
    [Setting("--eval-iwae-k", "Importance samples per image for --eval-every", MayChangeOnResume = true, AppliesTo = Piece.EpochEvaluation, Since = 1)]
    public int EvalIwaeK { get; init; } = 100;
    /// <summary>Side of the square images made from a folder of image files; null: their own size, when they share one.</summary>
    [Setting("--image-size", "Image folders: crop to a centred square and resize to N×N (default: the images' size, if they share one)", Since = 1)]
    public int? ImageSize { get; init; }
    /// <summary>Channels of the images made from a folder of image files, 1 or 3; null: 1 when every image is grey, else 3.</summary>
    [Setting("--image-channels", "Image folders: 1 (grey) or 3 (RGB) (default: 1 if every image is grey, else 3)", Since = 1)]
    public int? ImageChannels { get; init; }
    /// <summary>The fraction of a folder of image files held out as the test set (split by a shuffle seeded with <see cref="Seed"/>).</summary>
    [Setting("--test-fraction", "Image folders: the fraction held out for testing, split by --seed", Since = 1)]
    public double TestFraction { get; init; } = 0.1;
    /// <summary>The smallest side <see cref="ImageSize"/> resizes an image folder's images to.</summary>
    public const int MinimumImageSize = 4;

    /// <summary>The image size the data had, so pictures can be drawn without the data (<see cref="ImageChannels"/> holds its channels).</summary>
    [Recorded]
    public int ImageHeight { get; init; }
    /// <summary>The image width the data had.</summary>
    [Recorded]
    public int ImageWidth { get; init; }
    /// <summary>
    /// The absolute path of <see cref="Data"/> when it names a file or folder, recorded by training (config.json's
    /// data_path) so every command finds the data from any working directory; null for the named sets and images in memory.
    /// Files written before the key lack it and find their data as typed.
    /// </summary>
    [Recorded(3)]
    public string? DataPath { get; init; }

    /// <summary>The config.json format the file was written in (<see cref="RunSettings.FormatVersion"/>); 1 where the key is absent.</summary>
    [Recorded(1)]
    [WhenAbsent(1, "files from before the key are format 1")]
    public int FormatVersion { get; init; } = RunSettings.FormatVersion;

    /// <summary>The recorded image shape; one channel where none was recorded (runs from before colour images).</summary>
    [JsonIgnore]
    public ImageShape Image => new(ImageChannels ?? 1, ImageHeight, ImageWidth);

    /// <summary>Whether <see cref="Model"/> is beta-tcvae.</summary>
    [JsonIgnore]
    public bool IsBetaTcVae => Model.Equals("beta-tcvae", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <see cref="Posterior"/> is iaf.</summary>
    [JsonIgnore]
    public bool IsIaf => PosteriorKind.Named(Posterior) == PosteriorKind.Iaf;

    /// <summary>Whether <see cref="Arch"/> is conv.</summary>
    [JsonIgnore]
    public bool IsConv => SettingNames.Pick(Arch, "architecture (RunConfig.Arch)", ("mlp", false), ("conv", true));

    /// <summary>
    /// This configuration with the defaults that depend on other settings filled in for the settings not in
    /// <paramref name="given"/> (property names): <see cref="Hidden"/> from <see cref="Arch"/>.
    /// </summary>
    public RunConfig WithDefaultsFor(IReadOnlyCollection<string> given) =>
        given.Contains(nameof(Hidden)) ? this : this with { Hidden = DefaultHidden(Arch) };

    /// <summary>Hidden sizes when --hidden is not given: 400 for the MLP (pytorch/examples), 1024 for conv (the InfoVAE paper).</summary>
    public static int[] DefaultHidden(string arch) => SettingNames.Pick(arch, "architecture (RunConfig.Arch)", ("mlp", new[] { 400 }), ("conv", new[] { 1024 }));

    /// <summary>The encoder's convolutions as configured (each layer's values checked; whether they fit an image is checked with it).</summary>
    internal IReadOnlyList<ConvLayerSpec> ConvLayers()
    {
        int padding = ConvPadding ?? (ConvKernel - 1) / 2;
        var layers = Channels.Select(c => new ConvLayerSpec(c, ConvKernel, ConvStride, padding)).ToList();
        if (layers.Count == 0) throw new ArgumentException("RunConfig.Arch = conv needs at least one convolution: give RunConfig.Channels, e.g. 64,128.");
        foreach (var l in layers) ConvLayerSpec.Validate(l);
        return layers;
    }

    /// <summary>config.json's form: snake_case names, indented.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The model for images of <paramref name="image"/>'s shape; refused, naming the value, when they cannot take it.</summary>
    internal ModelSpec ModelSpec(ImageShape image)
    {
        var decoder = DecoderKind.Named(Decoder);
        SettingValue setting = name => RunSettings.Of(name).Get(this);
        var (decoderHidden, decoderOptions) = decoder.FromSettings(setting, image);
        return PosteriorKind.Named(Posterior).WithSettings(new ModelSpec(
            image.Size, Hidden, Latent, decoderHidden,
            SettingNames.Activation(Activation), SettingNames.Likelihood(Likelihood), ObsLogVar,
            IsConv ? new ConvSpec(image, ConvLayers()) : null, decoder, null,
            decoderOptions, SettingNames.MadeDegrees(MadeDegrees)), setting).Validate();
    }

    /// <summary>The preset's α and λ, overridden by any given; kernel parameter defaults: c = 2·latent, h = 1.</summary>
    internal ObjectiveSpec Objective()
    {
        var preset = ObjectiveSpec.Preset(Model, Latent, Beta, DatasetSize);
        var kernel = SettingNames.MmdKernel(Kernel);
        var estimator = SettingNames.MmdEstimator(Estimator);
        double parameter = kernel == MmdKernel.Imq ? ImqC ?? 2.0 * Latent : Bandwidth ?? 1.0;
        return new ObjectiveSpec(Alpha ?? preset.Alpha, Lambda ?? preset.Lambda, kernel, parameter, estimator, PriorSamples)
        {
            FreeBits = FreeBits, TotalCorrelation = preset.TotalCorrelation,
        }.Validate();
    }

    internal OptimizerSpec OptimizerSpec() =>
        new OptimizerSpec(Training.OptimizerSpec.ParseKind(Optimizer), Lr, WeightDecay: WeightDecay).Validate();

    /// <summary>Whether <see cref="Binarize"/> is dynamic.</summary>
    [JsonIgnore]
    public bool DynamicBinarization => SettingNames.Pick(Binarize, "binarization", ("none", false), ("dynamic", true));

    /// <summary>Throws unless every one of <paramref name="replicas"/> data-parallel replicas gets a share of each batch.</summary>
    public void RequireBatchFor(int replicas)
    {
        if (BatchSize < replicas)
            throw new ArgumentException(
                $"RunConfig.BatchSize = {BatchSize} is smaller than the {replicas} replicas{(Replicas is null ? "" : $" of RunConfig.Replicas = {Replicas}")}: " +
                $"each replica takes a share of every batch. Use a batch of at least {replicas}.");
    }

    /// <summary>
    /// Throws unless <paramref name="images"/> have the shape this run was trained on (nothing to check before its first
    /// data set has recorded one); <paramref name="what"/> names them in the message.
    /// </summary>
    public void RequireTrainedShape(Data.ImageSet images, string what)
    {
        if (ImageHeight > 0 && (images.Height != ImageHeight || images.Width != ImageWidth || images.Channels != Image.Channels))
            throw new ArgumentException($"{what} are {images.Shape}; the run was trained on {Image.Channels}×{ImageHeight}×{ImageWidth} images.");
    }

    /// <summary>Checks every setting that does not need the data; throws <see cref="ArgumentException"/> on the first bad one.</summary>
    public RunConfig Validate()
    {
        if (Epochs <= 0) throw new ArgumentException($"RunConfig.Epochs must be positive; got {Epochs}.");
        if (BatchSize <= 0) throw new ArgumentException($"RunConfig.BatchSize must be positive; got {BatchSize}.");
        if (Replicas is not null && Compute.ReplicaDevices.Count(Replicas) is int replicas) RequireBatchFor(replicas);
        if (Seed < 0) throw new ArgumentException($"RunConfig.Seed must be 0 or more; got {Seed}.");
        if (Bandwidth is <= 0) throw new ArgumentException($"RunConfig.Bandwidth must be positive; got {Bandwidth}.");
        if (ImqC is <= 0) throw new ArgumentException($"RunConfig.ImqC must be positive; got {ImqC}.");
        if (TrainLimit < 0 || TestLimit < 0) throw new ArgumentException($"RunConfig.TrainLimit and RunConfig.TestLimit must be 0 (all) or more; got {TrainLimit} and {TestLimit}.");
        if (EvalEvery < 0 || EvalIwaeK < 0) throw new ArgumentException($"RunConfig.EvalEvery and RunConfig.EvalIwaeK must be 0 or more; got {EvalEvery} and {EvalIwaeK}.");
        if (Beta < 0) throw new ArgumentException($"RunConfig.Beta must be 0 or more; got {Beta}.");
        ValidateKlSchedule();
        ValidateBetaTcVae();
        if (ImageSize < MinimumImageSize)
            throw new ArgumentException($"RunConfig.ImageSize must be at least {MinimumImageSize}: smaller images hold no picture to learn or draw; got {ImageSize}.");
        if (ImageChannels is not (null or 1 or 3)) throw new ArgumentException($"RunConfig.ImageChannels must be 1 (grey-scale) or 3 (RGB); got {ImageChannels}.");
        if (!(TestFraction > 0 && TestFraction < 1)) throw new ArgumentException($"RunConfig.TestFraction must lie strictly between 0 and 1; got {TestFraction}.");
        if (IsConv) ConvLayers();
        else ModelSpec(new ImageShape(1, 1, 2));
        if (MadeHidden.Any(h => h <= 0)) throw new ArgumentException($"Every RunConfig.MadeHidden width must be positive; got {string.Join(",", MadeHidden)}.");
        // A conv model's spec needs the image, so its flow (its posterior's structure) is checked here on its own.
        if (IsIaf) new FlowSpec(FlowSteps, FlowHidden, ContextDim).Validate(Latent);
        SettingNames.MadeDegrees(MadeDegrees);
        if (BatchSize < Objective().MinimumBatch)
            throw new ArgumentException(
                $"RunConfig.BatchSize = {BatchSize} is too small for the unbiased MMD² estimator, which needs {ObjectiveSpec.UnbiasedMmdMinimum} codes a batch " +
                $"(it divides by B(B − 1); train_mmd reports it whatever its weight). Use RunConfig.BatchSize = {ObjectiveSpec.UnbiasedMmdMinimum} or more, or RunConfig.Estimator = biased.");
        OptimizerSpec();
        _ = DynamicBinarization;
        Compute.KernelChoices.Parse(Kernels);
        return this;
    }

    /// <summary>
    /// The warm-up's epochs and the free bits: numbers 0 or above; free bits only with an analytic per-dimension KL (the
    /// Gaussian posterior) and the whole batch on one device; neither where the KL has no weight to warm up or clamp.
    /// </summary>
    void ValidateKlSchedule()
    {
        if (!double.IsFinite(KlWarmupEpochs) || KlWarmupEpochs < 0)
            throw new ArgumentException($"RunConfig.KlWarmupEpochs must be 0 (no warm-up) or a positive number of epochs; got {KlWarmupEpochs}.");
        if (!double.IsFinite(FreeBits) || FreeBits < 0)
            throw new ArgumentException($"RunConfig.FreeBits must be 0 (none) or a positive number of nats per latent dimension; got {FreeBits}.");
        if (FreeBits > 0 && !PosteriorKind.Named(Posterior).HasKlPerDimension)
            throw new ArgumentException(
                $"RunConfig.FreeBits = {FreeBits} does not combine with RunConfig.Posterior = {Posterior}: free bits clamp each latent dimension's analytic KL, " +
                $"and this posterior's KL term ({KlTerm}) has no share per dimension. " +
                $"Use RunConfig.Posterior = {PosteriorKind.Gaussian.Name}, or leave out RunConfig.FreeBits.");
        if (FreeBits > 0 && Replicas is not null)
            throw new ArgumentException(
                $"RunConfig.FreeBits = {FreeBits} does not combine with RunConfig.Replicas = {Replicas}: the clamp needs each dimension's KL averaged over the " +
                "whole batch, and replicas hold it in shards. Train on one device (RunConfig.Device), or leave out RunConfig.FreeBits.");
        if ((FreeBits > 0 || KlWarmupEpochs > 0) && Objective().KlWeight == 0)
            throw new ArgumentException(
                $"{(FreeBits > 0 ? $"RunConfig.FreeBits = {FreeBits}" : $"RunConfig.KlWarmupEpochs = {KlWarmupEpochs}")} would do nothing: the KL weight 1 − α is 0 " +
                $"(RunConfig.Model = {Model}{(Alpha is double a ? $", RunConfig.Alpha = {a}" : "")}), so there is no KL term to {(FreeBits > 0 ? "clamp" : "warm up")}. " +
                "Leave it out, or weight the KL (a model other than mmd-vae, or RunConfig.Alpha below 1).");
    }

    /// <summary>
    /// beta-tcvae: N not negative; its preset's weights as they are (the loss has no analytic KL or MMD term for α and λ to
    /// weigh); neither an IAF posterior nor replicas (see the messages).
    /// </summary>
    void ValidateBetaTcVae()
    {
        if (DatasetSize < 0) throw new ArgumentException($"RunConfig.DatasetSize must be 0 (the training set's size) or more; got {DatasetSize}.");
        if (!IsBetaTcVae) return;
        if (IsIaf)
            throw new ArgumentException(
                "RunConfig.Model = beta-tcvae does not combine with RunConfig.Posterior = iaf: its estimator needs log q(zᵢ|xⱼ) for every pair of the " +
                "batch, which under a flow means inverting it for every pair at every step, and a flow's q(z|x) has no closed-form marginal per " +
                "dimension for the dimension-wise KL. Use RunConfig.Posterior = gaussian.");
        if (Replicas is not null)
            throw new ArgumentException(
                $"RunConfig.Model = beta-tcvae does not combine with RunConfig.Replicas = {Replicas}: the estimator's gradient for each posterior's μ and " +
                "log σ² sums over every code of the batch, which replicas hold in shards. Train on one device (RunConfig.Device).");
        if (Alpha is double a && a != 1 || Lambda is double l && l != 0)
            throw new ArgumentException(
                $"RunConfig.Model = beta-tcvae takes no RunConfig.Alpha or RunConfig.Lambda (got {Alpha?.ToString() ?? "none"} and {Lambda?.ToString() ?? "none"}): " +
                "its loss replaces the KL term by MI + β·TC + DWKL and has no MMD term. Set RunConfig.Beta, or choose another model.");
    }

    /// <summary>The config.json text, in this version's format.</summary>
    public string ToJson() => JsonSerializer.Serialize(this with { FormatVersion = RunSettings.FormatVersion }, Json);

    /// <summary>
    /// Reads config.json text; <paramref name="source"/> names it in the <see cref="ArgumentException"/> a malformed one
    /// throws. A key no version wrote, a missing key that every version wrote, and a newer format are refused
    /// (<see cref="RunSettings.CheckKeys"/>); a key an older version did not write takes a new run's default, or what
    /// <see cref="WhenAbsentAttribute"/> says it meant (<c>made_degrees</c>: <see cref="LegacyMadeDegrees"/>).
    /// </summary>
    public static RunConfig FromJson(string json, string source)
    {
        try
        {
            var config = JsonSerializer.Deserialize<RunConfig>(json, Json) ?? throw new JsonException("empty document");
            ConfigErrors.RequireValues(config, source);
            using var document = JsonDocument.Parse(json);
            return RunSettings.CheckKeys(document.RootElement, config, source);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{source} is not a valid run configuration: {ConfigErrors.Describe(e)}", e);
        }
    }
}
