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
