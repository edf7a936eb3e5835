using System.Text.Json;

namespace IlgpuVae.Model;

/// <summary>
/// A kind of posterior q(z|x), by the name config.json, the command line and the fixtures give it: how its piece is
/// built, what its KL term is, and how its structure (a flow's, say) is read from a run's settings or a fixture's model
/// into the <see cref="ModelSpec"/>. Each kind is declared beside its piece, in the piece's file; <see cref="All"/> is the
/// one list a new kind joins.
/// </summary>
internal abstract class PosteriorKind
{
    public static readonly PosteriorKind Gaussian = new GaussianPosteriorKind(), Iaf = new IafPosteriorKind();

    /// <summary>Every kind, the default first.</summary>
    public static IReadOnlyList<PosteriorKind> All { get; } = [Gaussian, Iaf];

    /// <summary>The kind named <paramref name="name"/> (any case); else an <see cref="ArgumentException"/> listing the names.</summary>
    public static PosteriorKind Named(string name) => SettingNames.Pick(name, "posterior", All.Select(k => (k.Name, k)).ToArray());

    /// <summary>The name in config.json, on the command line and in fixtures.</summary>
    public abstract string Name { get; }

    /// <summary>How the KL term is computed, in the words config.json records (for the reader).</summary>
    public abstract string KlTerm { get; }

    /// <summary>Whether the KL term is the analytic sum of per-dimension terms, which free bits clamp one by one.</summary>
    public abstract bool HasKlPerDimension { get; }

    /// <summary>Whether <paramref name="spec"/>'s posterior is of this kind.</summary>
    public abstract bool Describes(ModelSpec spec);

    /// <summary>The piece for <paramref name="spec"/>, its parameters registered in <paramref name="layout"/> after the encoder's.</summary>
    public abstract IPosterior Build(ModelSpec spec, ParameterLayout layout, Encoder encoder);

    /// <summary><paramref name="spec"/> with this kind's structure, read from a run's settings by their C# names (<see cref="SettingValue"/>).</summary>
    public abstract ModelSpec WithSettings(ModelSpec spec, SettingValue setting);

    /// <summary><paramref name="spec"/> with this kind's structure, read from a parity fixture's <c>model</c> object by the command line's names.</summary>
    public abstract ModelSpec WithFixture(ModelSpec spec, JsonElement model);

    /// <summary>The kind of <paramref name="spec"/>'s posterior.</summary>
    public static PosteriorKind Of(ModelSpec spec) => All.Single(k => k.Describes(spec));

    public override string ToString() => Name;
}
