using IlgpuVae.IO;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Onnx;

namespace IlgpuVae.Export;

/// <summary>
/// A model as ONNX files; N is free in every one, and x is [N, C, H, W] for a conv model and [N, d] (each image
/// flattened channel-major) for an MLP.
///   encoder.onnx: x → mu, logvar [N, k], and whatever the posterior adds (an IAF's context [N, C]).
///   decoder.onnx: z [N, k] → logits (a Bernoulli decoder; σ(logits) are the pixel means) or mean (a Gaussian
///   one), shaped like x. A decoder that reads x (a MADE) also takes x, and returns every conditional of
///   p(x_i | x_&lt;i, z) in one pass.
///   and the posterior's own files (an IAF's flow.onnx: mu, logvar, context [N, C] and eps [N, k] → z and log_q).
/// Each piece writes its own nodes (<see cref="Encoder.Onnx"/>, <see cref="IPosterior.OnnxEncoderOutputs"/>,
/// <see cref="IDecoder.Onnx"/>, <see cref="IPosterior.OnnxFiles"/>), layer by layer (<see cref="Layer.Onnx"/>),
/// mirroring the model's own forward.
/// </summary>
static class OnnxExport
{
    public const string EncoderFile = "encoder.onnx", DecoderFile = "decoder.onnx", FlowFile = IafPosterior.FlowFile;

    /// <summary>The encoder graph's bytes.</summary>
    public static byte[] Encoder(VaeModel model)
    {
        var spec = model.Spec;
        var graph = new OnnxGraph("encoder");
        var parameters = new OnnxParameters(model);
        var (heads, headsInput) = model.Encoder.Onnx(graph, parameters, new OnnxValue(graph.Input("x", ImageDims(spec)), spec.Conv?.Image));
        int k = spec.LatentDim;
        // The heads run as one layer of 2k outputs, μ first.
        var split = graph.Node("Split", [heads.Name, graph.Int64s("heads_split", k, k)], ["mu", "logvar"], new OnnxAttribute("axis", Int: 1));
        OnnxGraph.Expect(split, "mu", "logvar");
        graph.Output("mu", "N", k);
        graph.Output("logvar", "N", k);
        string outputs = "mu, logvar of q(z|x) = N(mu, exp(logvar))";
        if (model.Posterior.OnnxEncoderOutputs(graph, parameters, headsInput) is { } more) outputs += $", and {more}";
        return graph.ToModel($"IlgpuVae encoder of a {spec} VAE: x → {outputs}.");
    }

    /// <summary>The decoder graph's bytes.</summary>
    public static byte[] Decoder(VaeModel model)
    {
        var spec = model.Spec;
        var graph = new OnnxGraph("decoder");
        string z = graph.Input("z", "N", spec.LatentDim);
        OnnxValue? x = model.Decoder.ReadsInput ? new OnnxValue(graph.Input("x", ImageDims(spec)), spec.Conv?.Image) : null;
        var (value, doc) = model.Decoder.Onnx(graph, new OnnxParameters(model), z, x);
        // The output is shaped like x: a map for a conv model, rows otherwise (a PixelCNN's map flattened).
        string output = spec.Conv is { Image: var image } ? OnnxNodes.AsMap(graph, value, image) : OnnxNodes.Rows(graph, value);
        string name = OutputName(spec.Likelihood);
        OnnxGraph.Expect([graph.Node("Identity", [output], name)], name);
        graph.Output(name, ImageDims(spec));
        return graph.ToModel($"IlgpuVae decoder of a {spec} VAE: {doc}.");
    }

    /// <summary>The decoder's output name: logits for a Bernoulli decoder, mean for a Gaussian one.</summary>
    public static string OutputName(Likelihood likelihood) => likelihood == Likelihood.Bernoulli ? "logits" : "mean";

    /// <summary>
    /// Writes encoder.onnx, decoder.onnx and the posterior's own files (an IAF's flow.onnx) into <paramref name="folder"/>;
    /// returns their paths. An existing file is refused; every graph is built before anything is written, so a layer
    /// the exporter cannot write (<see cref="Layer.Onnx"/> refuses it by name) leaves nothing behind; and each
    /// file appears whole or not at all.
    /// </summary>
    public static IReadOnlyList<string> Write(VaeModel model, string folder)
    {
        var own = model.Posterior.OnnxFiles(model);
        var files = new List<string> { EncoderFile, DecoderFile };
        files.AddRange(own.Select(f => f.Name));
        var paths = files.Select(f => Path.GetFullPath(Path.Combine(folder, f))).ToList();
        foreach (var path in paths)
            if (File.Exists(path) || Directory.Exists(path))
                throw new ArgumentException($"'{path}' already exists. Remove it, or export into another folder with --out.");
        if (File.Exists(folder))
            throw new ArgumentException($"The export folder '{folder}' is a file. Give --out a folder.");
        var graphs = new List<byte[]> { Encoder(model), Decoder(model) };
        graphs.AddRange(own.Select(f => f.Graph.ToModel($"IlgpuVae {f.Doc}.")));
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

}
