namespace IlgpuVae.Training;

/// <summary>The optimizer families; each updates the whole parameter buffer in one launch.</summary>
internal enum OptimizerKind { Adam, AdamW, Sgd }

/// <summary>
/// Optimizer settings: Adam and AdamW with PyTorch's defaults (betas = (0.9, 0.999), eps = 1e-8; weight_decay 0 for
/// Adam, 0.01 for AdamW unless given), and SGD with momentum 0.9 — ours, where PyTorch's SGD defaults to no momentum.
/// </summary>
internal sealed record OptimizerSpec(
    OptimizerKind Kind = OptimizerKind.Adam,
    double LearningRate = 1e-3,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Epsilon = 1e-8,
    double? WeightDecay = null,
    double Momentum = 0.9)
{
    public double EffectiveWeightDecay => WeightDecay ?? (Kind == OptimizerKind.AdamW ? 0.01 : 0.0);

    public static OptimizerKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        "sgd" => OptimizerKind.Sgd,
        _ => throw new ArgumentException($"Unknown optimizer '{name}'. Use adam, adamw or sgd."),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public OptimizerSpec Validate()
    {
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentException($"The learning rate must be positive; got {LearningRate}. Try RunConfig.Lr = 1e-3.");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1)
            throw new ArgumentException($"Adam's betas must lie in [0, 1); got {Beta1} and {Beta2}.");
        if (!(Epsilon > 0)) throw new ArgumentException($"Adam's epsilon must be positive; got {Epsilon}.");
        if (EffectiveWeightDecay < 0) throw new ArgumentException($"The weight decay must be 0 or more; got {EffectiveWeightDecay}.");
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"The momentum must lie in [0, 1); got {Momentum}.");
        return this;
    }
}
