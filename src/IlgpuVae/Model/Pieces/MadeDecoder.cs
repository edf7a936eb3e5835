using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// An autoregressive decoder, p(x|z) = Π_i p(x_i | x_&lt;i, z): a MADE (<see cref="Made"/>) over the image's values in
/// raster order (NCHW) with z feeding every layer as its context — decoder.made.{l}.weight (masked), .cond.weight
/// (z's), .bias, then decoder.out.* back to one output per value, no activation. Training and the likelihood are one
/// pass; images are drawn value by value on the device, one decoder pass per value. It can model x without z.
/// </summary>
internal sealed class MadeDecoder(ModelSpec spec, ParameterLayout layout) : AutoregressiveDecoder(spec, Build(spec, layout))
{
    static IReadOnlyList<Layer> Build(ModelSpec spec, ParameterLayout layout)
    {
        int d = spec.InputDim, width = d;
        var masks = Made.Masks(Made.InputDegrees(d, reversed: false), spec.DecoderHidden, spec.MadeDegrees);
        var layers = new List<Layer>();
        for (int l = 0; l < spec.DecoderHidden.Count; l++)
        {
            layers.Add(layout.Masked($"decoder.made.{l}", width, spec.DecoderHidden[l], spec.LatentDim, spec.Activation, masks[l]));
            width = spec.DecoderHidden[l];
        }
        layers.Add(layout.Masked("decoder.out", width, d, spec.LatentDim, Activation.Identity, masks[^1]));
        return layers;
    }

    /// <summary>
    /// Values drawn pixel by pixel in raster order into <see cref="VaeModel.Input"/> (each pass of the decoder sees the
    /// ones drawn so far): Bernoulli draws keyed by <paramref name="key"/> and the pixel, or the Gaussian's means (clamped to [0, 1]).
    /// </summary>
    public override void DrawImages(VaeModel model, int batch, ulong key, Span<float> images)
    {
        int d = Spec.InputDim;
        model.Input.SubView(0, (long)batch * d).MemSetToZero();
        for (int pixel = 0; pixel < d; pixel++)
        {
            model.Decode(batch);
            model.Kernels.SamplePixel(batch, d, pixel, Spec.Likelihood, CounterRng.Key(key, RandomStreams.Pictures, (ulong)pixel), Output, model.Input);
        }
        ReadDrawnImages(model, images);
    }

    public override (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x)
    {
        var value = x ?? throw new InternalFaultException("A MADE decoder's graph was built without its input x.");
        foreach (var layer in Layers) value = layer.Onnx(graph, parameters, value, z);
        return (value, $"z, x → {DenseDecoder.OnnxMeaning(Spec.Likelihood)} of every pixel's conditional p(x_i | x_<i, z), pixel i reading only x's pixels before it");
    }
}

/// <summary>The MADE decoder as a kind: "made", its hidden widths --made-hidden.</summary>
internal sealed class MadeDecoderKind : DecoderKind
{
    public override string Name => "made";

    public override bool IsMade => true;

    public override IDecoder Build(ModelSpec spec, ParameterLayout layout) => new MadeDecoder(spec, layout);

    public override void Validate(ModelSpec spec)
    {
        base.Validate(spec);
        if (spec.InputDim < 2)
            throw new ArgumentException($"A MADE decoder orders at least 2 values; the data has {spec.InputDim}. Use RunConfig.Decoder = mlp.");
    }

    public override string Describe(ModelSpec spec) => $"made[{string.Join(",", spec.DecoderHidden)}]-{spec.InputDim}";

    public override (IReadOnlyList<int>, DecoderOptions?) FromSettings(SettingValue setting, ImageShape image) => ((int[])setting("MadeHidden")!, null);

    public override (IReadOnlyList<int>, DecoderOptions?) FromFixture(JsonElement model, Func<ImageShape> image) =>
        (model.GetProperty("made_hidden").EnumerateArray().Select(e => e.GetInt32()).ToArray(), null);
}
