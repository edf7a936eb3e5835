using System.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Training;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>train</c>: the main job. With no options: procedural sprites, the InfoVAE preset, the best accelerator.</summary>
static class TrainCommand
{
    public static Command Create(TextWriter output, CancellationToken stop)
    {
        var defaults = new RunConfig();
        var data = new Option<string>("--data") { Description = "sprites, fashion-mnist, mnist, a folder of PNG/JPEG files (flat or one subfolder per class), or a folder / IDX file (gzipped or not)", DefaultValueFactory = _ => defaults.Data };
        var imageSize = new Option<int?>("--image-size") { Description = "Image folders: crop to a centred square and resize to N×N (default: the images' size, if they share one)" };
        var imageChannels = new Option<int?>("--image-channels") { Description = "Image folders: 1 (grey) or 3 (RGB) (default: 1 if every image is grey, else 3)" };
        var testFraction = new Option<double>("--test-fraction") { Description = "Image folders: the fraction held out for testing, split by --seed", DefaultValueFactory = _ => defaults.TestFraction };
        var model = new Option<string>("--model") { Description = "Objective preset: vae, beta-vae, infovae, mmd-vae", DefaultValueFactory = _ => defaults.Model };
        var alpha = new Option<double?>("--alpha") { Description = "α: the KL weight is 1 − α (overrides the preset)" };
        var lambda = new Option<double?>("--lambda") { Description = "λ: the MMD weight is α + λ − 1 (overrides the preset)" };
        var beta = new Option<double>("--beta") { Description = "β of the beta-vae preset", DefaultValueFactory = _ => defaults.Beta };
        var kernel = new Option<string>("--kernel") { Description = "MMD kernel: imq or rbf", DefaultValueFactory = _ => defaults.Kernel };
        var bandwidth = new Option<double?>("--bandwidth") { Description = "RBF bandwidth h (default 1)" };
        var imqC = new Option<double?>("--imq-c") { Description = "IMQ constant c (default 2·latent)" };
        var estimator = new Option<string>("--estimator") { Description = "MMD estimator: unbiased or biased", DefaultValueFactory = _ => defaults.Estimator };
        var priorSamples = new Option<int>("--prior-samples") { Description = "Prior draws per batch for the MMD (0: the batch size)" };
        var klWarmup = new Option<double>("--kl-warmup") { Description = "KL warm-up: the KL weight rises linearly from 0 to 1 − α over N epochs, every step (0: none; the MMD weight is not warmed up)" };
        var freeBits = new Option<double>("--free-bits") { Description = "Free bits: the KL term becomes Σ_j max(NATS, batch mean of KL_j); dimensions below get no KL gradient (0: none; Gaussian posterior, one device)" };
        var arch = new Option<string>("--arch") { Description = "mlp, or conv: strided convolutions (--channels) before the dense layers, transposed ones after", DefaultValueFactory = _ => defaults.Arch };
        var channels = new Option<string>("--channels") { Description = "conv: output channels of the encoder's convolutions, e.g. 64,128", DefaultValueFactory = _ => string.Join(",", defaults.Channels) };
        var convKernel = new Option<int>("--conv-kernel") { Description = "conv: kernel size of every convolution", DefaultValueFactory = _ => defaults.ConvKernel };
        var convStride = new Option<int>("--conv-stride") { Description = "conv: stride of every convolution", DefaultValueFactory = _ => defaults.ConvStride };
        var convPadding = new Option<int?>("--conv-padding") { Description = "conv: zero padding of every convolution (default (kernel − 1)/2)" };
        var hidden = new Option<string?>("--hidden") { Description = "Encoder dense hidden sizes, e.g. 512,256 (empty for none; default 400 for mlp, 1024 for conv)" };
        var decoderHidden = new Option<string?>("--decoder-hidden") { Description = "Decoder hidden sizes (default: the encoder's, reversed)" };
        var latent = new Option<int>("--latent") { Description = "Latent dimensions", DefaultValueFactory = _ => defaults.Latent };
        var decoder = new Option<string>("--decoder") { Description = "mlp, or an autoregressive decoder p(x|z) = Π p(x_i | x_<i, z) that can model x without z: made (a MADE over the pixels, z in every layer) or pixelcnn (masked convolutions, z in every layer)", DefaultValueFactory = _ => defaults.Decoder };
        var madeHidden = new Option<string>("--made-hidden") { Description = "made decoder: hidden widths, e.g. 500", DefaultValueFactory = _ => string.Join(",", defaults.MadeHidden) };
        var pixelcnnChannels = new Option<int>("--pixelcnn-channels") { Description = "pixelcnn decoder: feature channels of its masked convolutions", DefaultValueFactory = _ => defaults.PixelcnnChannels };
        var pixelcnnLayers = new Option<int>("--pixelcnn-layers") { Description = "pixelcnn decoder: type-B layers after the type-A one", DefaultValueFactory = _ => defaults.PixelcnnLayers };
        var pixelcnnKernel = new Option<int>("--pixelcnn-kernel") { Description = "pixelcnn decoder: kernel size (odd) of the type-B layers", DefaultValueFactory = _ => defaults.PixelcnnKernel };
        var pixelcnnFirstKernel = new Option<int>("--pixelcnn-first-kernel") { Description = "pixelcnn decoder: kernel size (odd, ≥ 3) of the first, type-A layer", DefaultValueFactory = _ => defaults.PixelcnnFirstKernel };
        var posterior = new Option<string>("--posterior") { Description = "gaussian (mean field, analytic KL), or iaf: an inverse autoregressive flow after the Gaussian (single-sample KL estimate)", DefaultValueFactory = _ => defaults.Posterior };
        var flowSteps = new Option<int>("--flow-steps") { Description = "iaf: flow steps (the order of z reversed between steps)", DefaultValueFactory = _ => defaults.FlowSteps };
        var flowHidden = new Option<string>("--flow-hidden") { Description = "iaf: hidden widths of each step's MADE", DefaultValueFactory = _ => string.Join(",", defaults.FlowHidden) };
        var contextDim = new Option<int>("--context-dim") { Description = "iaf: size of the context vector the encoder gives every step", DefaultValueFactory = _ => defaults.ContextDim };
        var madeDegrees = new Option<string>("--made-degrees") { Description = "made decoder and iaf posterior: the MADEs' hidden degrees, spread (evenly over 1 … d − 1 at any width) or cyclic (1 + (j mod (d − 1)): the rule of runs whose config.json lacks made_degrees)", DefaultValueFactory = _ => defaults.MadeDegrees };
        var activation = new Option<string>("--activation") { Description = "relu, leaky_relu, tanh or softplus", DefaultValueFactory = _ => defaults.Activation };
        var likelihood = new Option<string>("--likelihood") { Description = "bernoulli or gaussian", DefaultValueFactory = _ => defaults.Likelihood };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs in total (default {defaults.Epochs}; with --resume, the saved value)" };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => defaults.Lr };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, adamw or sgd", DefaultValueFactory = _ => defaults.Optimizer };
        var seed = new Option<long>("--seed") { Description = "Seed of every random draw", DefaultValueFactory = _ => defaults.Seed };
        var device = DeviceOptions.Device(defaults.Device, extra: "under mpiexec, cuda or opencl is the GPU of the process's rank on its machine");
        var replicas = new Option<string?>("--replicas") { Description = "Data-parallel training on several devices of one kind instead of --device: cuda:0,cuda:1, cuda:all, or cpu:0,cpu:1 (CPU accelerators); each takes a share of every batch" };
        var kernels = DeviceOptions.Kernels(defaults.Kernels);
        var outDir = new Option<string?>("--out") { Description = "Run folder (default: a new folder under runs/)" };
        var binarize = new Option<string>("--binarize") { Description = "none, or dynamic: a fresh Bernoulli draw of each pixel every epoch", DefaultValueFactory = _ => defaults.Binarize };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder to --epochs in total" };
        var trainLimit = new Option<int>("--train-limit") { Description = "Use only the first N training images (sprites: generate N; 0: all)" };
        var testLimit = new Option<int>("--test-limit") { Description = "Use only the first N test images (0: all)" };
        var evalEvery = new Option<int>("--eval-every") { Description = "Every N epochs add IWAE NLL, MI, active units and aggregate MMD to the metrics (0: never)" };
        var evalIwaeK = new Option<int>("--eval-iwae-k") { Description = "Importance samples per image for --eval-every", DefaultValueFactory = _ => defaults.EvalIwaeK };

        var command = new Command("train", "Train a model and write a run folder (config, metrics, checkpoint, pictures).")
        {
            data, imageSize, imageChannels, testFraction, model, alpha, lambda, beta, kernel, bandwidth, imqC, estimator,
            priorSamples, klWarmup, freeBits, arch, channels, convKernel, convStride, convPadding, hidden, decoderHidden, latent,
            decoder, madeHidden, pixelcnnChannels, pixelcnnLayers, pixelcnnKernel, pixelcnnFirstKernel, posterior, flowSteps, flowHidden, contextDim, madeDegrees, activation, likelihood, epochs, batchSize, lr, optimizer, seed,
            device, replicas, kernels, outDir, binarize, resume, trainLimit, testLimit, evalEvery, evalIwaeK,
        };
        command.SetAction(parse =>
        {
            // Under mpiexec every process runs this command; process 0 reports and writes the run folder.
            using var mpi = MpiLink.FromEnvironment();
            try
            {
                var config = new RunConfig
                {
                    Data = parse.GetValue(data)!, ImageSize = parse.GetValue(imageSize),
                    ImageChannels = parse.GetValue(imageChannels), TestFraction = parse.GetValue(testFraction),
                    Model = parse.GetValue(model)!, Alpha = parse.GetValue(alpha),
                    Lambda = parse.GetValue(lambda), Beta = parse.GetValue(beta), Kernel = parse.GetValue(kernel)!,
                    Bandwidth = parse.GetValue(bandwidth), ImqC = parse.GetValue(imqC), Estimator = parse.GetValue(estimator)!,
                    PriorSamples = parse.GetValue(priorSamples),
                    KlWarmupEpochs = parse.GetValue(klWarmup), FreeBits = parse.GetValue(freeBits),
                    Arch = parse.GetValue(arch)!, Channels = ParseSizes(parse.GetValue(channels)!, "--channels"),
                    ConvKernel = parse.GetValue(convKernel), ConvStride = parse.GetValue(convStride), ConvPadding = parse.GetValue(convPadding),
                    Hidden = parse.GetValue(hidden) is string h ? ParseSizes(h, "--hidden") : RunConfig.DefaultHidden(parse.GetValue(arch)!),
                    DecoderHidden = parse.GetValue(decoderHidden) is string dh ? ParseSizes(dh, "--decoder-hidden") : null,
                    Latent = parse.GetValue(latent), Activation = parse.GetValue(activation)!,
                    Decoder = parse.GetValue(decoder)!, MadeHidden = ParseSizes(parse.GetValue(madeHidden)!, "--made-hidden"),
                    PixelcnnChannels = parse.GetValue(pixelcnnChannels), PixelcnnLayers = parse.GetValue(pixelcnnLayers),
                    PixelcnnKernel = parse.GetValue(pixelcnnKernel), PixelcnnFirstKernel = parse.GetValue(pixelcnnFirstKernel),
                    Posterior = parse.GetValue(posterior)!, FlowSteps = parse.GetValue(flowSteps),
                    FlowHidden = ParseSizes(parse.GetValue(flowHidden)!, "--flow-hidden"), ContextDim = parse.GetValue(contextDim),
                    MadeDegrees = parse.GetValue(madeDegrees)!,
                    Likelihood = parse.GetValue(likelihood)!, BatchSize = parse.GetValue(batchSize), Lr = parse.GetValue(lr),
                    Optimizer = parse.GetValue(optimizer)!, Seed = parse.GetValue(seed), Device = parse.GetValue(device)!,
                    Replicas = parse.GetValue(replicas),
                    Kernels = parse.GetValue(kernels)!,
                    Binarize = parse.GetValue(binarize)!, TrainLimit = parse.GetValue(trainLimit), TestLimit = parse.GetValue(testLimit),
                    EvalEvery = parse.GetValue(evalEvery), EvalIwaeK = parse.GetValue(evalIwaeK),
                };
                config = config with { Epochs = parse.GetValue(epochs) ?? config.Epochs };
                var observer = ConsoleObserver.For(output);
                using var signals = new StopSignals(stop, mpi is { Rank: > 0 } ? _ => { } : observer.Info);
                var progress = mpi is { Rank: > 0 } ? null : observer;
                IProcessLink processes = (IProcessLink?)mpi ?? SingleProcess.Instance;
                bool stopped = false;
                observer.Run(() =>
                {
                    using var vae = parse.GetValue(resume) is string folder
                        ? Vae.ResumeAsProcess(folder, saved => ResumeOptions.Apply(parse, command.Options, config, saved, folder), progress, signals.Token, processes)
                        : Vae.TrainAsProcess(config, parse.GetValue(outDir) ?? RunFolder.NewDefaultPath(), progress, signals.Token, processes);
                    stopped = vae.Stopped;
                });
                // A stopped run exits as the signal would have (130, 143), so a script can tell it from a finished one.
                return stopped ? signals.ExitCode ?? StopSignals.InterruptedExit : 0;
            }
            catch (Exception e) when (mpi is not null)
            {
                mpi.Fail(e, Console.Error);
                return Errors.UserError;
            }
        });
        return command;
    }

    /// <summary>"512,256" → [512, 256]; "" → []. <paramref name="what"/> names the values in the message of a bad one.</summary>
    internal static int[] ParseSizes(string text, string option, string what = "layer sizes", string example = "512,256")
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Select(p => int.TryParse(p, out int v) && v > 0 ? v
            : throw new ArgumentException($"{option} takes positive {what} separated by commas (e.g. {example}); '{p}' is not one.")).ToArray();
    }
}
