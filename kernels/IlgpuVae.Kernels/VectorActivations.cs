using System.Numerics;

namespace IlgpuVae.Kernels;

/// <summary>
/// <see cref="Activations"/> a vector at a time, for the CPU accelerator's [External] code (<see cref="SimdRows"/>,
/// <see cref="ConvolutionRows"/>): the piecewise-linear activations forward, and their derivatives and tanh's
/// backward — nothing transcendental, so each evaluates the scalar expression's operations in the same order
/// and gives the same bits. Tanh and softplus forward, and softplus backward, stay with the scalar functions.
/// </summary>
static class VectorActivations
{
    /// <summary>Whether <see cref="Forward"/> covers <paramref name="activation"/>.</summary>
    public static bool HasForward(int activation) =>
        activation is (int)Activation.Identity or (int)Activation.Relu or (int)Activation.LeakyRelu;

    /// <summary>Whether <see cref="Derivative"/> covers <paramref name="activation"/>.</summary>
    public static bool HasDerivative(int activation) => HasForward(activation) || activation == (int)Activation.Tanh;

    /// <summary><see cref="Activations.Forward"/> of a vector; <see cref="HasForward"/> says for which activations.</summary>
    public static Vector<float> Forward(Vector<float> x, int activation) => activation switch
    {
        (int)Activation.Relu => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, Vector<float>.Zero),
        (int)Activation.LeakyRelu => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, Activations.LeakySlope * x),
        _ => x,
    };

    /// <summary><see cref="Activations.Derivative"/> from a vector of outputs y; <see cref="HasDerivative"/> says for which.</summary>
    public static Vector<float> Derivative(Vector<float> y, int activation) => activation switch
    {
        (int)Activation.Relu => Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), Vector<float>.One, Vector<float>.Zero),
        (int)Activation.LeakyRelu => Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), Vector<float>.One, new Vector<float>(Activations.LeakySlope)),
        (int)Activation.Tanh => Vector<float>.One - y * y,
        _ => Vector<float>.One,
    };
}
