using IlgpuVae.Kernels;
using System.Reflection;
using IlgpuVae.IO;
using IlgpuVae.Model;

namespace IlgpuVae.Export;

/// <summary>
/// A model as ONNX files; N is free in every one, and x is [N, C, H, W] for a conv model and [N, d] (each image
/// flattened channel-major) for an MLP.
///   encoder.onnx: x → mu, logvar [N, k]; with an IAF posterior also the flow's context [N, C].
///   decoder.onnx: z [N, k] → logits (a Bernoulli decoder; σ(logits) are the pixel means) or mean (a Gaussian
///   one), shaped like x. A MADE decoder also takes x, and returns every conditional of p(x_i | x_&lt;i, z) in
///   one pass: output i reads only the pixels before i (raster order, channel-major).
///   flow.onnx (an IAF posterior only): mu, logvar, context [N, C] and eps [N, k] → z [N, k] = z_T, the flow's
///   steps after z₀ = μ + σ ⊙ ε, and log_q [N] = log q(z_T|x).
/// The graphs are built layer by layer through <see cref="OnnxLayers"/>, mirroring the model's own forward.
/// </summary>
static class OnnxExport
{
    public const string EncoderFile = "encoder.onnx", DecoderFile = "decoder.onnx", FlowFile = "flow.onnx";

    /// <summary>The encoder graph's bytes.</summary>
    public static byte[] Encoder(VaeModel model)
    {
        var spec = model.Spec;
        var graph = new OnnxGraph("encoder");
        var parameters = new OnnxParameters(model);
        var value = new OnnxValue(graph.Input("x", ImageDims(spec)), spec.Conv?.Image);
        var layers = model.Layout.Encoder;
        foreach (var layer in layers.Take(layers.Count - 1)) value = OnnxLayers.Emit(graph, layer, parameters, value);
        // The heads run as one layer of 2k outputs, μ first; an IAF's context layer reads the same input.
        var headsInput = value;
        value = OnnxLayers.Emit(graph, layers[^1], parameters, headsInput);
        int k = spec.LatentDim;
        var heads = graph.Node("Split", [value.Name, graph.Int64s("heads_split", k, k)], ["mu", "logvar"], new OnnxAttribute("axis", Int: 1));
        Expect(heads, "mu", "logvar");
        graph.Output("mu", "N", k);
        graph.Output("logvar", "N", k);
        string outputs = "mu, logvar of q(z|x) = N(mu, exp(logvar))";
        if (model.Layout.Context is { } contextLayer)
        {
            var context = OnnxLayers.Emit(graph, contextLayer, parameters, headsInput);
            Expect([graph.Node("Identity", [context.Name], "context")], "context");
            graph.Output("context", "N", contextLayer.Outputs);
            outputs += $", and the context of its IAF ({FlowFile} takes all three)";
        }
        return graph.ToModel(Producer, Version, $"IlgpuVae encoder of a {spec} VAE: x → {outputs}.");
    }

    /// <summary>The decoder graph's bytes.</summary>
    public static byte[] Decoder(VaeModel model)
    {
        var spec = model.Spec;
        var graph = new OnnxGraph("decoder");
        var parameters = new OnnxParameters(model);
        string z = graph.Input("z", "N", spec.LatentDim);
        bool made = spec.Decoder == DecoderKind.Made;
        // A MADE decoder's layers read x, with z as every layer's context; the others read z.
        var value = made ? new OnnxValue(graph.Input("x", ImageDims(spec)), spec.Conv?.Image) : new OnnxValue(z, null);
        foreach (var layer in model.Layout.Decoder) value = OnnxLayers.Emit(graph, layer, parameters, value, made ? z : null);
        string output = spec.Conv is { Image: var image } && value.Map is null ? OnnxLayers.AsMap(graph, value, image) : value.Name;
        string name = OutputName(spec.Likelihood);
        Expect([graph.Node("Identity", [output], name)], name);
        graph.Output(name, ImageDims(spec));
        string meaning = spec.Likelihood == Likelihood.Bernoulli ? "Bernoulli logits (sigmoid gives the pixel means)" : "Gaussian means";
        string doc = made
            ? $"z, x → {meaning} of every pixel's conditional p(x_i | x_<i, z), pixel i reading only x's pixels before it"
            : $"z → {meaning}";
        return graph.ToModel(Producer, Version, $"IlgpuVae decoder of a {spec} VAE: {doc}.");
    }

    /// <summary>
    /// The IAF posterior's graph: mu, logvar, context and eps → z = z_T and log_q = log q(z_T|x) — z₀ = μ + σ ⊙ ε,
    /// then each step's MADE over z_t and the context gives [m | s], z_{t+1} = σ(s) ⊙ z_t + (1 − σ(s)) ⊙ m (the
    /// order of z reversed in odd steps, which lives in their masks), and log q adds −log σ(s) per step.
    /// </summary>
    public static byte[] Flow(VaeModel model)
    {
        var spec = model.Spec;
        var flow = spec.Flow ?? throw new InternalFaultException("A flow graph was asked for a model without an IAF posterior.");
        int k = spec.LatentDim;
        var graph = new OnnxGraph("flow");
        var parameters = new OnnxParameters(model);
        string mu = graph.Input("mu", "N", k), logVar = graph.Input("logvar", "N", k);
        string context = graph.Input("context", "N", flow.ContextDim), eps = graph.Input("eps", "N", k);
        var (z, logQ) = OnnxLayers.Reparameterize(graph, mu, logVar, eps);
        foreach (var step in model.Layout.Flow)
        {
            var ms = new OnnxValue(z, null);
            foreach (var layer in step) ms = OnnxLayers.Emit(graph, layer, parameters, ms, context);
            (z, logQ) = OnnxLayers.FlowStep(graph, k, z, ms.Name, logQ);
        }
        Expect([graph.Node("Identity", [z], "z")], "z");
        graph.Output("z", "N", k);
        // Per row: the elements' sum, less the Gaussian's ½·log 2π per dimension.
        string sum = graph.Node("ReduceSum", [logQ, graph.Int64s("latent_axis", 1)], "log_q_sum", new OnnxAttribute("keepdims", Int: 0));
        string total = graph.Node("Add", [sum, graph.Scalar("log_normalizer", (float)(-0.5 * k * Math.Log(2 * Math.PI)))], "log_q_total");
        Expect([graph.Node("Identity", [total], "log_q")], "log_q");
        graph.Output("log_q", "N");
        return graph.ToModel(Producer, Version,
            $"IlgpuVae IAF posterior of a {spec} VAE: mu, logvar, context (from {EncoderFile}), eps ~ N(0, I) → z = z_T, log_q = log q(z|x).");
    }

    /// <summary>The decoder's output name: logits for a Bernoulli decoder, mean for a Gaussian one.</summary>
    public static string OutputName(Likelihood likelihood) => likelihood == Likelihood.Bernoulli ? "logits" : "mean";

    /// <summary>
    /// Writes encoder.onnx, decoder.onnx and, for an IAF posterior, flow.onnx into <paramref name="folder"/>;
    /// returns their paths. An existing file is refused; every graph is built before anything is written, so a layer
    /// the exporter cannot write (<see cref="OnnxLayers.Emit"/> refuses it by name) leaves nothing behind; and each
    /// file appears whole or not at all.
    /// </summary>
    public static IReadOnlyList<string> Write(VaeModel model, string folder)
    {
        var files = new List<string> { EncoderFile, DecoderFile };
        if (model.Spec.Flow is not null) files.Add(FlowFile);
        var paths = files.Select(f => Path.GetFullPath(Path.Combine(folder, f))).ToList();
        foreach (var path in paths)
            if (File.Exists(path) || Directory.Exists(path))
                throw new ArgumentException($"'{path}' already exists. Remove it, or export into another folder with --out.");
        if (File.Exists(folder))
            throw new ArgumentException($"The export folder '{folder}' is a file. Give --out a folder.");
        var graphs = new List<byte[]> { Encoder(model), Decoder(model) };
        if (model.Spec.Flow is not null) graphs.Add(Flow(model));
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                var bytes = graphs[i];
                AtomicWrite.Replace(paths[i], s => s.Write(bytes));
                written.Add(paths[i]);
            }
        }
        catch
        {
            foreach (var path in written) File.Delete(path);
            throw;
        }
        return paths;
    }

    static OnnxDim[] ImageDims(ModelSpec spec) => spec.Conv is { Image: var image }
        ? ["N", image.Channels, image.Height, image.Width]
        : ["N", spec.InputDim];

    static void Expect(string[] actual, params string[] expected)
    {
        if (!actual.SequenceEqual(expected))
            throw new InternalFaultException($"ONNX outputs are named {string.Join(", ", actual)} instead of {string.Join(", ", expected)}.");
    }

    const string Producer = "IlgpuVae";

    static string Version => typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
}
