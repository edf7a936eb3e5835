namespace IlgpuVae.Model;

/// <summary>
/// A model's three pieces and the parameter layout they registered, in the model's order — encoder, posterior,
/// decoder — before anything is allocated on a device. The one place where a piece is chosen for a spec: a new kind
/// of decoder or posterior is its own file and one line here.
/// </summary>
internal sealed record ModelPieces(ParameterLayout Layout, Encoder Encoder, IPosterior Posterior, IDecoder Decoder)
{
    public static ModelPieces Build(ModelSpec spec)
    {
        var layout = new ParameterLayout();
        var encoder = new Encoder(spec, layout);
        IPosterior posterior = spec.Flow is { } flow ? new IafPosterior(spec, flow, layout, encoder) : new GaussianPosterior(spec.LatentDim);
        IDecoder decoder = spec.Decoder switch
        {
            DecoderKind.Made => new MadeDecoder(spec, layout),
            DecoderKind.PixelCnn => new PixelCnnDecoder(spec, spec.PixelCnn!, layout),
            _ => new DenseDecoder(spec, layout),
        };
        return new ModelPieces(layout, encoder, posterior, decoder);
    }

    /// <summary>Every layer of every piece.</summary>
    public IEnumerable<Layer> Layers => Encoder.Layers.Concat(Posterior.Layers).Concat(Decoder.Layers);
}
