using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Training;

/// <summary>
/// An optimizer's state on the device (Adam's m and v, or SGD's velocity), the same size as the flat
/// parameter buffer, and its step count. <see cref="Update"/> is one launch.
/// </summary>
internal sealed class Optimizer : IDisposable
{
    readonly ComputeDevice device;
    readonly MemoryBuffer1D<float, Stride1D.Dense> first, second;

    public OptimizerSpec Spec { get; }
    /// <summary>Updates taken so far (Adam's t).</summary>
    public long Steps { get; private set; }

    public Optimizer(ComputeDevice device, OptimizerSpec spec, int parameterCount)
    {
        this.device = device;
        Spec = spec.Validate();
        var memory = new DeviceMemory(device, $"the {spec.Kind} state of {parameterCount} parameters");
        first = memory.Floats(parameterCount);
        second = memory.Floats(spec.Kind == OptimizerKind.Sgd ? 1 : parameterCount);
    }

    /// <summary>
    /// θ ← update(θ, ∂loss/∂θ), one launch that nothing waits for. The NaN or infinite gradients it meets are
    /// added into faults[0] (the model's counter, read with the step's terms); the update has then spread them
    /// into θ, so the caller stops and keeps its last checkpoint.
    /// </summary>
    public void Update(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<int> faults)
    {
        Steps++;
        float decay = (float)Spec.EffectiveWeightDecay;
        if (Spec.Kind == OptimizerKind.Sgd)
        {
            device.Kernels.SgdMomentum(new SgdStep
            {
                LearningRate = (float)Spec.LearningRate, Momentum = (float)Spec.Momentum, WeightDecay = decay,
            }, parameters, gradients, first.View, faults);
            return;
        }
        device.Kernels.Adam(new AdamStep
        {
            LearningRate = (float)Spec.LearningRate, Beta1 = (float)Spec.Beta1, Beta2 = (float)Spec.Beta2,
            Epsilon = (float)Spec.Epsilon,
            BiasCorrection1 = (float)(1 - Math.Pow(Spec.Beta1, Steps)),
            BiasCorrection2 = (float)(1 - Math.Pow(Spec.Beta2, Steps)),
            WeightDecay = decay, Decoupled = Spec.Kind == OptimizerKind.AdamW ? 1 : 0,
        }, parameters, gradients, first.View, second.View, faults);
    }

    /// <summary>The state for a checkpoint: the step count and the moment buffers.</summary>
    public (long Steps, float[] First, float[] Second) SaveState() => (Steps, first.GetAsArray1D(), second.GetAsArray1D());

    public void LoadState(long steps, float[] firstMoment, float[] secondMoment)
    {
        if (firstMoment.Length != first.Length || secondMoment.Length != second.Length)
            throw new ArgumentException(
                $"The optimizer state holds {firstMoment.Length} and {secondMoment.Length} values; this model needs {first.Length} and {second.Length}.");
        Steps = steps;
        first.View.CopyFromCPU(firstMoment);
        second.View.CopyFromCPU(secondMoment);
    }

    public void Dispose()
    {
        first.Dispose();
        second.Dispose();
    }
}
