using ILGPU.Runtime;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// Finite differences of the device model's own float32 loss, for every preset: along random directions in
/// parameter space, (L(θ + hv) − L(θ − hv)) / 2h must match ∇L·v from the backward pass. Smooth activations keep
/// kinks out of the differences; the tolerance allows for float32 rounding of L.
/// </summary>
public sealed class GradientCheckTests
{
    public static TheoryData<string, string> Cases() => TestDevices.Cross(ObjectiveSpec.PresetNames);

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void DirectionalDerivativesMatchCentralDifferences(string preset, string device)
    {
        var spec = new ModelSpec(7, [6], 3, [5], Activation.Tanh);
        var c = ModelCase.Random(spec, ObjectiveSpec.Preset(preset, 3), batch: 5, priorCount: 6, seed: preset.Length);
        using var model = c.Load(device);
        model.Run(c.Objective, c.Batch, backward: true);
        var theta = DeviceArrays.Download(model.Parameters);
        var grad = DeviceArrays.Download(model.Gradients);
        var random = new Random(7);
        for (int direction = 0; direction < 3; direction++)
        {
            var v = TestData.Normal(random, theta.Length);
            double analytic = 0;
            for (int i = 0; i < v.Length; i++) analytic += grad[i] * v[i];
            const float h = 2e-3f;
            double Loss(float step)
            {
                model.Parameters.CopyFromCPU(theta.Select((t, i) => t + step * v[i]).ToArray());
                return model.Run(c.Objective, c.Batch, backward: false).Loss;
            }
            double numeric = (Loss(h) - Loss(-h)) / (2 * h);
            Tolerance.AssertNear(numeric, analytic, 2e-2, 2e-2, $"{preset}, direction {direction}");
        }
    }
}
