using System.Text.Json;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Verification;

/// <summary>One PyTorch-parity fixture (see golden/README.md): a model, its parameters and inputs, and
/// the float64 autograd results.</summary>
internal sealed class GoldenFixture
{
    public required string Name { get; init; }
    public required ModelSpec Model { get; init; }
    public required ObjectiveSpec Objective { get; init; }
    public required Dictionary<string, (int[] Shape, double[] Data)> Parameters { get; init; }
    public required (int Rows, double[] Data) X { get; init; }
    public required double[] Eps { get; init; }
    public required (int Rows, double[] Data) PriorZ { get; init; }
    public required JsonElement Expected { get; init; }
    /// <summary>The masked weights' 0/1 masks by weight name (autoregressive fixtures), for comparison with the model's own.</summary>
    public IReadOnlyDictionary<string, (int[] Shape, double[] Data)> Masks { get; init; } = new Dictionary<string, (int[], double[])>();
    /// <summary>The Gaussian's log-variance as the fixture states it (the model's is its nearest float).</summary>
    public double ObsLogVar { get; init; }

    /// <summary>
    /// Reads a fixture: a dense one (no <c>arch</c> key), or a conv one (<c>arch: conv</c>, with <c>image</c>,
    /// <c>conv</c> and the mirrored <c>deconv</c> list, checked against the mirror this project builds); with another
    /// kind of decoder (<c>decoder</c>: its keys are its <see cref="DecoderKind.FromFixture"/>'s) and/or an IAF posterior (<c>posterior: iaf</c>,
    /// <c>flow_steps</c>, <c>flow_hidden</c>, <c>context_dim</c>) and their <c>masks</c>, the MADEs' hidden degrees by
    /// <c>made_degrees</c> (spread or cyclic; a fixture without the key predates it: cyclic). Every setting is read by
    /// the names the command line uses; an unknown one is refused, naming the file.
    /// </summary>
    public static GoldenFixture Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement.Clone();
        string name = Path.GetFileName(path);
        try
        {
            var model = root.GetProperty("model");
            var obj = root.GetProperty("objective");
            var kernel = SettingNames.MmdKernel(obj.GetProperty("kernel").GetString()!);
            var kp = obj.GetProperty("kernel_params");
            var x = Matrix(root.GetProperty("x"));
            var prior = Matrix(root.GetProperty("prior_z"));
            var decoder = model.TryGetProperty("decoder", out var kind) ? DecoderKind.Named(kind.GetString()!) : DecoderKind.Mlp;
            var (decoderHidden, decoderOptions) = decoder.FromFixture(model, () => Image(model));
            var posterior = model.TryGetProperty("posterior", out var q) ? PosteriorKind.Named(q.GetString()!) : PosteriorKind.Gaussian;
            return new GoldenFixture
            {
                Name = name,
                Model = posterior.WithFixture(new ModelSpec(
                    model.GetProperty("input_dim").GetInt32(),
                    Ints(model.GetProperty("encoder_hidden")),
                    model.GetProperty("latent_dim").GetInt32(),
                    decoderHidden,
                    SettingNames.Activation(model.GetProperty("activation").GetString()!),
                    SettingNames.Likelihood(model.GetProperty("likelihood").GetString()!),
                    model.TryGetProperty("obs_log_var", out var s) ? s.GetSingle() : 0f,
                    Conv(model, decoder), decoder, null, decoderOptions,
                    model.TryGetProperty("made_degrees", out var rule) ? SettingNames.MadeDegrees(rule.GetString()!) : MadeDegrees.Cyclic), model).Validate(),
                Objective = new ObjectiveSpec(
                    obj.GetProperty("alpha").GetDouble(), obj.GetProperty("lambda").GetDouble(), kernel,
                    kernel == MmdKernel.Rbf ? kp.GetProperty("bandwidth").GetDouble() : kp.GetProperty("c").GetDouble(),
                    SettingNames.MmdEstimator(obj.GetProperty("estimator").GetString()!),
                    prior.Rows)
                {
                    // β-TC-VAE fixtures (tcvae_*): the KL's decomposition in the loss, with its β and the estimator's N.
                    TotalCorrelation = obj.TryGetProperty("tc_beta", out var beta)
                        ? new TotalCorrelationSpec(beta.GetDouble(), obj.GetProperty("dataset_size").GetInt32())
                        : null,
                },
                Parameters = root.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => Tensor(p.Value)),
                X = x,
                Eps = Matrix(root.GetProperty("eps")).Data,
                PriorZ = prior,
                Expected = root.GetProperty("expected"),
                Masks = root.TryGetProperty("masks", out var masks)
                    ? masks.EnumerateObject().ToDictionary(m => m.Name, m => Tensor(m.Value))
                    : new Dictionary<string, (int[], double[])>(),
                ObsLogVar = model.TryGetProperty("obs_log_var", out var exact) ? exact.GetDouble() : 0,
            };
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Fixture {name}: {e.Message}", e);
        }
    }

    /// <summary>The fixture's <c>image</c>, [C, H, W].</summary>
    static ImageShape Image(JsonElement model)
    {
        var image = Ints(model.GetProperty("image"));
        if (image.Length != 3) throw new ArgumentException($"image must be [C, H, W]; got {image.Length} numbers.");
        return new ImageShape(image[0], image[1], image[2]);
    }

    /// <summary>The conv part of a fixture's model, or null for a dense fixture; a MADE decoder has no deconv list.</summary>
    static ConvSpec? Conv(JsonElement model, DecoderKind decoder)
    {
        if (!model.TryGetProperty("arch", out var arch)) return null;
        if (arch.GetString() != "conv") throw new ArgumentException($"unknown arch '{arch.GetString()}'; this project knows dense (no arch) and conv.");
        var layers = model.GetProperty("conv").EnumerateArray().Select(l => new ConvLayerSpec(
            l.GetProperty("channels").GetInt32(), l.GetProperty("kernel").GetInt32(),
            l.GetProperty("stride").GetInt32(), l.GetProperty("padding").GetInt32())).ToList();
        var spec = new ConvSpec(Image(model), layers);
        if (!decoder.MirrorsEncoder)
        {
            if (model.TryGetProperty("deconv", out _)) throw new ArgumentException($"a {decoder} decoder has no transposed convolutions, but the fixture lists deconv layers.");
            spec.Shapes();
            return spec;
        }
        var mirror = spec.Mirror();
        var deconv = model.GetProperty("deconv").EnumerateArray().ToList();
        if (deconv.Count != mirror.Count) throw new ArgumentException($"{deconv.Count} deconv layers do not mirror {mirror.Count} conv layers.");
        for (int j = 0; j < mirror.Count; j++)
        {
            var (_, output, layer, opH, opW) = mirror[j];
            var d = deconv[j];
            var op = Ints(d.GetProperty("output_padding"));
            if (d.GetProperty("channels").GetInt32() != output.Channels || d.GetProperty("kernel").GetInt32() != layer.Kernel ||
                d.GetProperty("stride").GetInt32() != layer.Stride || d.GetProperty("padding").GetInt32() != layer.Padding ||
                op.Length != 2 || op[0] != opH || op[1] != opW)
                throw new ArgumentException($"deconv {j} is not the mirror of conv {mirror.Count - 1 - j} " +
                    $"(expected {output.Channels} channels, kernel {layer.Kernel}, stride {layer.Stride}, padding {layer.Padding}, output padding [{opH}, {opW}]).");
        }
        return spec;
    }

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    static (int Rows, double[] Data) Matrix(JsonElement e)
    {
        var (shape, data) = Tensor(e);
        return (shape[0], data);
    }

    /// <summary>A nested JSON array as (shape, row-major values).</summary>
    public static (int[] Shape, double[] Data) Tensor(JsonElement e)
    {
        var shape = new List<int>();
        for (var cur = e; cur.ValueKind == JsonValueKind.Array; cur = cur.GetArrayLength() > 0 ? cur[0] : default)
        {
            shape.Add(cur.GetArrayLength());
            if (cur.GetArrayLength() == 0) break;
        }
        var data = new List<double>();
        Flatten(e, data);
        return (shape.ToArray(), data.ToArray());
    }

    static void Flatten(JsonElement e, List<double> into)
    {
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray()) Flatten(item, into);
        else
            into.Add(e.GetDouble());
    }
}
