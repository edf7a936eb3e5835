using System.Text.Json;
using IlgpuVae.Kernels;

namespace IlgpuVae.Verification;

/// <summary>One PyTorch-parity fixture (see golden/README.md): a model, its parameters and inputs, and
/// the float64 autograd results.</summary>
public sealed class GoldenFixture
{
    public required string Name { get; init; }
    public required ModelSpec Model { get; init; }
    public required ObjectiveSpec Objective { get; init; }
    public required Dictionary<string, (int[] Shape, double[] Data)> Parameters { get; init; }
    public required (int Rows, double[] Data) X { get; init; }
    public required double[] Eps { get; init; }
    public required (int Rows, double[] Data) PriorZ { get; init; }
    public required JsonElement Expected { get; init; }

    public static GoldenFixture Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement.Clone();
        var model = root.GetProperty("model");
        var obj = root.GetProperty("objective");
        var kernel = obj.GetProperty("kernel").GetString() == "rbf" ? MmdKernel.Rbf : MmdKernel.Imq;
        var kp = obj.GetProperty("kernel_params");
        var x = Matrix(root.GetProperty("x"));
        var prior = Matrix(root.GetProperty("prior_z"));
        return new GoldenFixture
        {
            Name = Path.GetFileName(path),
            Model = new ModelSpec(
                model.GetProperty("input_dim").GetInt32(),
                Ints(model.GetProperty("encoder_hidden")),
                model.GetProperty("latent_dim").GetInt32(),
                Ints(model.GetProperty("decoder_hidden")),
                ParseActivation(model.GetProperty("activation").GetString()!),
                model.GetProperty("likelihood").GetString() == "gaussian" ? Likelihood.Gaussian : Likelihood.Bernoulli,
                model.TryGetProperty("obs_log_var", out var s) ? s.GetSingle() : 0f),
            Objective = new ObjectiveSpec(
                obj.GetProperty("alpha").GetDouble(), obj.GetProperty("lambda").GetDouble(), kernel,
                kernel == MmdKernel.Rbf ? kp.GetProperty("bandwidth").GetDouble() : kp.GetProperty("c").GetDouble(),
                obj.GetProperty("estimator").GetString() == "biased" ? MmdEstimator.Biased : MmdEstimator.Unbiased,
                prior.Rows),
            Parameters = root.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => Tensor(p.Value)),
            X = x,
            Eps = Matrix(root.GetProperty("eps")).Data,
            PriorZ = prior,
            Expected = root.GetProperty("expected"),
        };
    }

    public static Activation ParseActivation(string name) => name switch
    {
        "relu" => Activation.Relu,
        "leaky_relu" => Activation.LeakyRelu,
        "tanh" => Activation.Tanh,
        "softplus" => Activation.Softplus,
        _ => throw new InvalidDataException($"Unknown activation '{name}' in fixture."),
    };

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    static (int Rows, double[] Data) Matrix(JsonElement e)
    {
        var (shape, data) = Tensor(e);
        return (shape[0], data);
    }

    /// <summary>A nested JSON array as (shape, row-major values).</summary>
    public static (int[] Shape, double[] Data) Tensor(JsonElement e)
    {
        var shape = new List<int>();
        for (var cur = e; cur.ValueKind == JsonValueKind.Array; cur = cur.GetArrayLength() > 0 ? cur[0] : default)
        {
            shape.Add(cur.GetArrayLength());
            if (cur.GetArrayLength() == 0) break;
        }
        var data = new List<double>();
        Flatten(e, data);
        return (shape.ToArray(), data.ToArray());
    }

    static void Flatten(JsonElement e, List<double> into)
    {
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray()) Flatten(item, into);
        else
            into.Add(e.GetDouble());
    }
}
