using System.Text.Json;

namespace IlgpuVae.Model;

/// <summary>
/// A kind of decoder, by the name config.json, the command line and the fixtures give it: how its piece is built,
/// checked and described, and how its structure is read from a run's settings or a fixture's model. Each kind is
/// declared beside its piece, in the piece's file; <see cref="All"/> is the one list a new kind joins.
/// </summary>
internal abstract class DecoderKind
{
    public static readonly DecoderKind Mlp = new DenseDecoderKind(), Made = new MadeDecoderKind(), PixelCnn = new PixelCnnDecoderKind();

    /// <summary>Every kind, the default first.</summary>
    public static IReadOnlyList<DecoderKind> All { get; } = [Mlp, Made, PixelCnn];

    /// <summary>The kind named <paramref name="name"/> (any case); else an <see cref="ArgumentException"/> listing the names.</summary>
    public static DecoderKind Named(string name) => SettingNames.Pick(name, "decoder", All.Select(k => (k.Name, k)).ToArray());

    /// <summary>The name in config.json, on the command line and in fixtures.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the piece is a MADE, so <see cref="ModelSpec.MadeDegrees"/> shapes it.</summary>
    public virtual bool IsMade => false;

    /// <summary>Whether a conv model's decoder ends in the encoder's mirror image (transposed convolutions).</summary>
    public virtual bool MirrorsEncoder => false;

    /// <summary>The piece for <paramref name="spec"/>, its parameters registered in <paramref name="layout"/>.</summary>
    public abstract IDecoder Build(ModelSpec spec, ParameterLayout layout);

    /// <summary>Throws <see cref="ArgumentException"/> naming what of <paramref name="spec"/> this kind cannot take.</summary>
    public virtual void Validate(ModelSpec spec)
    {
        if (spec.DecoderOptions is not null)
            throw new ArgumentException($"A {Name} decoder takes no options of another kind; got {spec.DecoderOptions}.");
    }

    /// <summary>The decoder's part of <see cref="ModelSpec.ToString"/>, from z's layer on ("400-784").</summary>
    public abstract string Describe(ModelSpec spec);

    /// <summary>
    /// The decoder's dense hidden widths and own options from a run's settings (<paramref name="setting"/> gives a
    /// setting's value by its C# name, as RunConfig spells it), for images of <paramref name="image"/>.
    /// </summary>
    public abstract (IReadOnlyList<int> Hidden, DecoderOptions? Options) FromSettings(SettingValue setting, ImageShape image);

    /// <summary>The same from a parity fixture's <c>model</c> object, read by the command line's names.</summary>
    public abstract (IReadOnlyList<int> Hidden, DecoderOptions? Options) FromFixture(JsonElement model, Func<ImageShape> image);

    public override string ToString() => Name;
}

/// <summary>A run's setting by its C# name (RunConfig.MadeHidden → "MadeHidden"): how a piece reads its settings without depending on the run.</summary>
internal delegate object? SettingValue(string name);

/// <summary>A decoder kind's own structure, beyond the dense widths every kind may have (a PixelCNN's layers, say).</summary>
internal abstract record DecoderOptions;
