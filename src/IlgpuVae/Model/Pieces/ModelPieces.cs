namespace IlgpuVae.Model;

/// <summary>
/// A model's three pieces and the parameter layout they registered, in the model's order — encoder, posterior,
/// decoder — before anything is allocated on a device: the place where a spec's pieces are built. A kind of decoder or
/// posterior is its own file (the piece and its <see cref="DecoderKind"/> or <see cref="PosteriorKind"/>) and one line in
/// <see cref="DecoderKind.All"/> or <see cref="PosteriorKind.All"/>, besides its settings on RunConfig.
/// </summary>
internal sealed record ModelPieces(ParameterLayout Layout, Encoder Encoder, IPosterior Posterior, IDecoder Decoder)
{
    public static ModelPieces Build(ModelSpec spec)
    {
        var layout = new ParameterLayout();
        var encoder = new Encoder(spec, layout);
        var posterior = PosteriorKind.Of(spec).Build(spec, layout, encoder);
        return new ModelPieces(layout, encoder, posterior, spec.DecoderKind.Build(spec, layout));
    }

    /// <summary>Every layer of every piece.</summary>
    public IEnumerable<Layer> Layers => Encoder.Layers.Concat(Posterior.Layers).Concat(Decoder.Layers);
}
