using System.Text.Json;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// A conditional PixelCNN decoder (van den Oord et al., 2016; <see cref="PixelCnn"/> for the masks and the order),
/// p(x|z) = Π_i p(x_i | x_&lt;i, z): a type-A masked conv on the image, type-B masked convs after it, a 1×1 type-B
/// conv back to the image's channels, z adding V·z to every pixel of every layer (<see cref="MaskedConv2dLayer"/>).
/// Training and the likelihood are one pass; images are drawn value by value on the device, pixel by pixel and
/// colour by colour within a pixel, one decoder pass per value. It can model x without z.
/// </summary>
internal sealed class PixelCnnDecoder(ModelSpec spec, PixelCnnSpec pixelCnn, ParameterLayout layout)
    : AutoregressiveDecoder(spec, new PixelCnnLayout(pixelCnn, spec.LatentDim, spec.Activation, layout).Layers)
{
    /// <summary>
    /// Values drawn in the PixelCNN's order into <see cref="VaeModel.Input"/>: Bernoulli draws keyed by <paramref name="key"/>
    /// and the value, or the Gaussian's means (clamped to [0, 1]).
    /// </summary>
    public override void DrawImages(VaeModel model, int batch, ulong key, Span<float> images)
    {
        PixelCnn.Sample(model.Kernels, pixelCnn.Image, batch, Spec.Likelihood, key, () => model.Decode(batch), Output, model.Input);
        ReadDrawnImages(model, images);
    }

    public override (OnnxValue Output, string Doc) Onnx(OnnxGraph graph, OnnxParameters parameters, string z, OnnxValue? x)
    {
        var value = x ?? throw new InternalFaultException("A PixelCNN decoder's graph was built without its input x.");
        foreach (var layer in Layers) value = layer.Onnx(graph, parameters, value, z);
        return (value, $"z, x → {DenseDecoder.OnnxMeaning(Spec.Likelihood)} of every value's conditional p(x_i | x_<i, z), " +
            "masked convolutions reading only the values before it (pixels in raster order, colours R, G, B within a pixel)");
    }
}

/// <summary>The PixelCNN decoder as a kind: "pixelcnn", its structure a <see cref="PixelCnnSpec"/>.</summary>
internal sealed class PixelCnnDecoderKind : DecoderKind
{
    public override string Name => "pixelcnn";

    public override IDecoder Build(ModelSpec spec, ParameterLayout layout) => new PixelCnnDecoder(spec, Options(spec), layout);

    public override void Validate(ModelSpec spec)
    {
        var pixelCnn = Options(spec);
        if (pixelCnn.Image.Size != spec.InputDim)
            throw new ArgumentException($"The PixelCNN decoder is for {pixelCnn.Image} images ({pixelCnn.Image.Size} values), but the data has {spec.InputDim} values per image.");
        if (spec.DecoderHidden.Count > 0) throw new ArgumentException("A PixelCNN decoder has no dense hidden layers; its DecoderHidden must be empty.");
        pixelCnn.Validate();
    }

    public override string Describe(ModelSpec spec) => $"{Options(spec)}-{spec.InputDim}";

    /// <summary>The PixelCNN for images of <paramref name="image"/>'s shape, its settings checked by their names.</summary>
    public override (IReadOnlyList<int>, DecoderOptions?) FromSettings(SettingValue setting, ImageShape image)
    {
        int channels = (int)setting("PixelcnnChannels")!, layers = (int)setting("PixelcnnLayers")!;
        int kernel = (int)setting("PixelcnnKernel")!, first = (int)setting("PixelcnnFirstKernel")!;
        if (channels < image.Channels)
            throw new ArgumentException($"RunConfig.PixelcnnChannels = {channels} is fewer than the images' {image.Channels} colour channels: " +
                $"a PixelCNN splits its channels into one group per colour. Use at least {image.Channels}, e.g. RunConfig.PixelcnnChannels = 32.");
        if (layers < 0) throw new ArgumentException($"RunConfig.PixelcnnLayers must be 0 or more; got {layers}.");
        if (kernel < 1 || kernel % 2 == 0)
            throw new ArgumentException($"RunConfig.PixelcnnKernel must be odd and positive (the mask is centred on a pixel); got {kernel}. Try RunConfig.PixelcnnKernel = 5.");
        if (first < 3 || first % 2 == 0)
            throw new ArgumentException($"RunConfig.PixelcnnFirstKernel must be odd and at least 3 (a 1×1 type-A layer sees nothing); got {first}. Try RunConfig.PixelcnnFirstKernel = 7.");
        return ([], new PixelCnnSpec(image, channels, layers, kernel, first));
    }

    /// <summary>The fixture's <c>image</c>, <c>pixelcnn_channels</c>, <c>pixelcnn_layers</c>, <c>pixelcnn_kernel</c> and <c>pixelcnn_first_kernel</c>.</summary>
    public override (IReadOnlyList<int>, DecoderOptions?) FromFixture(JsonElement model, Func<ImageShape> image)
    {
        if (model.TryGetProperty("decoder_hidden", out var hidden) && hidden.GetArrayLength() > 0)
            throw new ArgumentException("a PixelCNN decoder has no dense hidden layers, but the fixture lists decoder_hidden.");
        int Int(string key) => model.GetProperty(key).GetInt32();
        return ([], new PixelCnnSpec(image(), Int("pixelcnn_channels"), Int("pixelcnn_layers"), Int("pixelcnn_kernel"), Int("pixelcnn_first_kernel")));
    }

    static PixelCnnSpec Options(ModelSpec spec) => spec.DecoderOptions as PixelCnnSpec
        ?? throw new ArgumentException("A PixelCNN decoder needs its PixelCnnSpec as the model's DecoderOptions.");
}
