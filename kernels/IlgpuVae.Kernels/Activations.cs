namespace IlgpuVae.Kernels;

/// <summary>The activation after every hidden layer. The numbers are passed to kernels as ints.</summary>
public enum Activation
{
    /// <summary>y = x (the heads and output layers).</summary>
    Identity = 0,
    /// <summary>y = max(x, 0).</summary>
    Relu = 1,
    /// <summary>y = x for x &gt; 0, else 0.01·x.</summary>
    LeakyRelu = 2,
    /// <summary>y = tanh(x).</summary>
    Tanh = 3,
    /// <summary>y = log(1 + eᕽ) (β = 1), computed stably for large |x|.</summary>
    Softplus = 4,
}

/// <summary>
/// Activation forward and backward, as device functions that the dense kernels fuse into their
/// epilogues. The backward is written in terms of the activation's <em>output</em> y, so a layer keeps
/// only its post-activation values: relu' = [y &gt; 0], leaky' = y &gt; 0 ? 1 : 0.01, tanh' = 1 − y²,
/// softplus' = σ(x) = 1 − e^(−y).
/// </summary>
public static class Activations
{
    /// <summary>The slope of leaky ReLU for negative inputs (PyTorch's default).</summary>
    public const float LeakySlope = 0.01f;

    /// <summary>y = act(x).</summary>
    public static float Forward(float x, int activation)
    {
        switch (activation)
        {
            case (int)Activation.Relu: return x > 0f ? x : 0f;
            case (int)Activation.LeakyRelu: return x > 0f ? x : LeakySlope * x;
            case (int)Activation.Tanh: return DeviceMath.Tanh(x);
            case (int)Activation.Softplus: return Softplus(x);
            default: return x;
        }
    }

    /// <summary>dy/dx as a function of the output y = act(x).</summary>
    public static float Derivative(float y, int activation)
    {
        switch (activation)
        {
            case (int)Activation.Relu: return y > 0f ? 1f : 0f;
            case (int)Activation.LeakyRelu: return y > 0f ? 1f : LeakySlope;
            case (int)Activation.Tanh: return 1f - y * y;
            // σ(x) = 1 − e^(−softplus(x)); for large y the exponent underflows to 0 and σ → 1.
            case (int)Activation.Softplus: return 1f - DeviceMath.Exp(-y);
            default: return 1f;
        }
    }

    /// <summary>
    /// softplus(x) = max(x, 0) + log(1 + e^(−|x|)): no overflow for |x| in the thousands
    /// (<see cref="DeviceMath.Log1p"/> keeps tiny e^(−|x|) from rounding away).
    /// </summary>
    public static float Softplus(float x) => (x > 0f ? x : 0f) + DeviceMath.Log1p(DeviceMath.Exp(x < 0f ? x : -x));

    /// <summary>σ(x) = 1 / (1 + e^(−x)), evaluated on the side where the exponent cannot overflow.</summary>
    public static float Sigmoid(float x)
    {
        float e = DeviceMath.Exp(x < 0f ? x : -x);
        return (x >= 0f ? 1f : e) / (1f + e);
    }
}
