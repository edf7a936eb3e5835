using System.Reflection;
using IlgpuVae.IO;
using IlgpuVae.Model;

namespace IlgpuVae.Export;

/// <summary>
/// A model as two ONNX files. encoder.onnx: x → mu, logvar [N, k], where x is [N, C, H, W] for a conv model and
/// [N, d] (each image flattened channel-major) for an MLP. decoder.onnx: z [N, k] → logits (a Bernoulli decoder;
/// σ(logits) are the pixel means) or mean (a Gaussian one), shaped like x. N is free. The graphs are built layer
/// by layer through <see cref="OnnxLayers"/>; a posterior with more than μ and log σ² (an autoregressive flow)
/// would add its steps after the heads' split in <see cref="Encoder"/>.
/// </summary>
static class OnnxExport
{
    public const string EncoderFile = "encoder.onnx", DecoderFile = "decoder.onnx";

    /// <summary>The encoder graph's bytes.</summary>
    public static byte[] Encoder(VaeModel model)
    {
        var spec = model.Spec;
        // The flow's steps live beside the encoder's layers, so without this check they would be left out unnoticed.
        if (spec.Flow is not null)
            throw new ArgumentException("ONNX export does not cover an inverse autoregressive flow posterior yet (its encoder needs ε as an input " +
                                        "and gives z and log q(z|x)); export a model with the plain Gaussian posterior.");
        var graph = new OnnxGraph("encoder");
        var parameters = new OnnxParameters(model);
        var value = new OnnxValue(graph.Input("x", ImageDims(spec)), spec.Conv?.Image);
        foreach (var layer in model.Layout.Encoder) value = OnnxLayers.Emit(graph, layer, parameters, value);
        // The heads run as one layer of 2k outputs, μ first.
        int k = spec.LatentDim;
        var heads = graph.Node("Split", [value.Name, graph.Int64s("heads_split", k, k)], ["mu", "logvar"], new OnnxAttribute("axis", Int: 1));
        Expect(heads, "mu", "logvar");
        graph.Output("mu", "N", k);
        graph.Output("logvar", "N", k);
        return graph.ToModel(Producer, Version, $"IlgpuVae encoder of a {spec} VAE: x → mu, logvar of q(z|x) = N(mu, exp(logvar)).");
    }

    /// <summary>The decoder graph's bytes.</summary>
    public static byte[] Decoder(VaeModel model)
    {
        var spec = model.Spec;
        var graph = new OnnxGraph("decoder");
        var parameters = new OnnxParameters(model);
        var value = new OnnxValue(graph.Input("z", "N", spec.LatentDim), null);
        foreach (var layer in model.Layout.Decoder) value = OnnxLayers.Emit(graph, layer, parameters, value);
        string name = OutputName(spec.Likelihood);
        Expect([graph.Node("Identity", [value.Name], name)], name);
        graph.Output(name, ImageDims(spec));
        string meaning = spec.Likelihood == Likelihood.Bernoulli ? "Bernoulli logits (sigmoid gives the pixel means)" : "Gaussian means";
        return graph.ToModel(Producer, Version, $"IlgpuVae decoder of a {spec} VAE: z → {meaning}.");
    }

    /// <summary>The decoder's output name: logits for a Bernoulli decoder, mean for a Gaussian one.</summary>
    public static string OutputName(Likelihood likelihood) => likelihood == Likelihood.Bernoulli ? "logits" : "mean";

    /// <summary>
    /// Writes encoder.onnx and decoder.onnx into <paramref name="folder"/>; returns their paths. Both graphs are
    /// built before anything is written, an existing file is refused, and each file appears whole or not at all.
    /// </summary>
    public static IReadOnlyList<string> Write(VaeModel model, string folder)
    {
        string encoderPath = Path.GetFullPath(Path.Combine(folder, EncoderFile));
        string decoderPath = Path.GetFullPath(Path.Combine(folder, DecoderFile));
        foreach (var path in new[] { encoderPath, decoderPath })
            if (File.Exists(path) || Directory.Exists(path))
                throw new ArgumentException($"'{path}' already exists. Remove it, or export into another folder with --out.");
        if (File.Exists(folder))
            throw new ArgumentException($"The export folder '{folder}' is a file. Give --out a folder.");
        if (model.Spec.Decoder == DecoderKind.Made)
            throw new ArgumentException("ONNX export does not cover a MADE decoder yet (it needs the image as an input beside z); " +
                                        "export a model with a dense or convolutional decoder.");
        var encoder = Encoder(model);
        var decoder = Decoder(model);
        Directory.CreateDirectory(folder);
        AtomicWrite.Replace(encoderPath, s => s.Write(encoder));
        try
        {
            AtomicWrite.Replace(decoderPath, s => s.Write(decoder));
        }
        catch
        {
            File.Delete(encoderPath);
            throw;
        }
        return [encoderPath, decoderPath];
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
