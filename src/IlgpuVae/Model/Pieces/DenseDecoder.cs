using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A decoder whose values are independent given z: dense layers on z (decoder.{i}.*, the model's activation after
/// each), then decoder.out back to the d values — or, for a conv model, one more dense layer to the deepest feature
/// map (rows kept NHWC) and the transposed convolutions that mirror the encoder's (decoder.deconv.{j}.*
/// [in, out, kh, kw], the last one decoder.out, writing NCHW).
/// </summary>
internal sealed class DenseDecoder(ModelSpec spec, ParameterLayout layout) : StackDecoder(spec, Build(spec, layout))
{
    static IReadOnlyList<Layer> Build(ModelSpec spec, ParameterLayout layout)
    {
        var act = spec.Activation;
        var layers = new List<Layer>();
        int width = spec.LatentDim;
        for (int i = 0; i < spec.DecoderHidden.Count; i++)
        {
            layers.Add(layout.Dense($"decoder.{i}", width, spec.DecoderHidden[i], act));
            width = spec.DecoderHidden[i];
        }
        if (spec.Conv is { } c)
        {
            var deepest = c.Deepest;
            layers.Add(layout.Dense($"decoder.{spec.DecoderHidden.Count}", width, deepest.Size, act, writesMap: deepest));
            var mirror = c.Mirror();
            for (int j = 0; j < mirror.Count; j++)
            {
                var (input, output, layer, _, _) = mirror[j];
                bool last = j == mirror.Count - 1;
                var (w, b) = layout.ConvTranspose(last ? "decoder.out" : $"decoder.deconv.{j}", layer, input.Channels, output.Channels);
                layers.Add(new ConvTranspose2dLayer(input, output, layer, last ? Activation.Identity : act, !last || output.Channels == 1, w, b));
            }
        }
        else
            layers.Add(layout.Dense("decoder.out", width, spec.InputDim, Activation.Identity));
        return layers;
    }

    public override bool ReadsInput => false;

    public override void Forward(VaeModel model, int batch) => Stack.Forward(model.Buffers, batch, model.Z);

    public override void Backward(VaeModel model, int batch) => Stack.Backward(model.Buffers, batch, model.Z, model.Dz);

    /// <summary>σ(logits) for a Bernoulli decoder, the means clamped to [0, 1] for a Gaussian one.</summary>
    public override void DrawImages(VaeModel model, int batch, ulong key, Span<float> images)
    {
        model.Decode(batch);
        Output.SubView(0, images.Length).CopyToCPU(images);
        for (int i = 0; i < images.Length; i++)
            images[i] = Spec.Likelihood == Likelihood.Bernoulli ? Activations.Sigmoid(images[i]) : Math.Clamp(images[i], 0f, 1f);
    }

    public override (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x)
    {
        var value = new OnnxValue(z, null);
        foreach (var layer in Layers) value = layer.Onnx(graph, parameters, value, null);
        return (value, "z → " + OnnxMeaning(Spec.Likelihood));
    }

    /// <summary>What the decoder's output is, in the ONNX graph's description.</summary>
    public static string OnnxMeaning(Likelihood likelihood) =>
        likelihood == Likelihood.Bernoulli ? "Bernoulli logits (sigmoid gives the pixel means)" : "Gaussian means";
}

/// <summary>The dense decoder as a kind: "mlp", its hidden widths --decoder-hidden (default: the encoder's, reversed).</summary>
internal sealed class DenseDecoderKind : DecoderKind
{
    public override string Name => "mlp";

    public override bool MirrorsEncoder => true;

    public override IDecoder Build(ModelSpec spec, ParameterLayout layout) => new DenseDecoder(spec, layout);

    public override string Describe(ModelSpec spec) => string.Join("-", spec.DecoderHidden.Append(spec.Conv is null ? spec.InputDim : spec.Conv.Deepest.Size));

    public override (IReadOnlyList<int>, DecoderOptions?) FromSettings(SettingValue setting, ImageShape image) =>
        ((int[]?)setting("DecoderHidden") ?? ((int[])setting("Hidden")!).Reverse().ToArray(), null);

    public override (IReadOnlyList<int>, DecoderOptions?) FromFixture(JsonElement model, Func<ImageShape> image) =>
        (model.GetProperty("decoder_hidden").EnumerateArray().Select(e => e.GetInt32()).ToArray(), null);
}
