namespace IlgpuVae.Model;

/// <summary>
/// A model's three pieces and the parameter layout they registered, in the model's order — encoder, posterior,
/// decoder — before anything is allocated on a device: the place where a spec's pieces are built. A kind of decoder
/// is its own file (the piece and its <see cref="DecoderKind"/>) and one line in <see cref="DecoderKind.All"/>, besides
/// its settings on RunConfig; a kind of posterior is still chosen here.
/// </summary>
internal sealed record ModelPieces(ParameterLayout Layout, Encoder Encoder, IPosterior Posterior, IDecoder Decoder)
{
    public static ModelPieces Build(ModelSpec spec)
    {
        var layout = new ParameterLayout();
        var encoder = new Encoder(spec, layout);
        IPosterior posterior = spec.Flow is { } flow ? new IafPosterior(spec, flow, layout, encoder) : new GaussianPosterior(spec.LatentDim);
        return new ModelPieces(layout, encoder, posterior, spec.DecoderKind.Build(spec, layout));
    }

    /// <summary>Every layer of every piece.</summary>
    public IEnumerable<Layer> Layers => Encoder.Layers.Concat(Posterior.Layers).Concat(Decoder.Layers);
}
