using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The names the model's settings go by in config.json, on the command line and in parity fixtures, turned into their
/// enums (the optimizer's, the kernel set's and the presets' names are parsed beside their own types: OptimizerSpec,
/// KernelChoices, ObjectiveSpec). An unknown name is refused with the names allowed; nothing falls back to a default.
/// </summary>
internal static class SettingNames
{
    public static Activation Activation(string name) => Pick(name.Replace('-', '_'), "activation",
        ("relu", Kernels.Activation.Relu), ("leaky_relu", Kernels.Activation.LeakyRelu),
        ("tanh", Kernels.Activation.Tanh), ("softplus", Kernels.Activation.Softplus));

    public static Likelihood Likelihood(string name) => Pick(name, "likelihood",
        ("bernoulli", Kernels.Likelihood.Bernoulli), ("gaussian", Kernels.Likelihood.Gaussian));

    public static MmdKernel MmdKernel(string name) => Pick(name, "MMD kernel",
        ("imq", Kernels.MmdKernel.Imq), ("rbf", Kernels.MmdKernel.Rbf));

    public static MmdEstimator MmdEstimator(string name) => Pick(name, "MMD estimator",
        ("unbiased", Model.MmdEstimator.Unbiased), ("biased", Model.MmdEstimator.Biased));

    public static MadeDegrees MadeDegrees(string name) => Pick(name, "MADE degree rule (RunConfig.MadeDegrees)",
        ("spread", Model.MadeDegrees.Spread), ("cyclic", Model.MadeDegrees.Cyclic));

    /// <summary>The value named <paramref name="name"/> (any case); else an <see cref="ArgumentException"/> listing the names.</summary>
    public static T Pick<T>(string name, string what, params (string Name, T Value)[] choices)
    {
        foreach (var (n, v) in choices)
            if (string.Equals(n, name?.Trim(), StringComparison.OrdinalIgnoreCase)) return v;
        throw new ArgumentException($"Unknown {what} '{name}'. Use {string.Join(", ", choices[..^1].Select(c => c.Name))} or {choices[^1].Name}.");
    }
}
