using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Model;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// What a test that trains needs, made and disposed together: a model of <paramref name="spec"/> initialized from
/// <paramref name="initSeed"/>, its optimizer, the images on the device, and a trainer drawing from
/// <paramref name="trainSeed"/> (over a replica group when <paramref name="group"/> makes one from the rig), with a KL warm-up
/// over <paramref name="klWarmupEpochs"/> epochs where that is not 0.
/// </summary>
internal sealed class TrainingRig : IDisposable
{
    public TrainingRig(ComputeDevice device, ModelSpec spec, float[] pixels, int batch, ObjectiveSpec objective, ulong initSeed,
        ulong trainSeed = 11, OptimizerSpec? optimizer = null, bool binarize = false, Func<TrainingRig, ReplicaGroup?>? group = null,
        double klWarmupEpochs = 0)
    {
        Objective = objective;
        OptimizerSpec = optimizer ?? new OptimizerSpec(LearningRate: 1e-2);
        Model = new VaeModel(device, spec, batch, objective.PriorCount(batch));
        Model.Initialize(initSeed);
        Optimizer = new Optimizer(device, OptimizerSpec, Model.Layout.Count);
        Data = new DeviceDataSet(device, pixels, pixels.Length / spec.InputDim, spec.InputDim);
        Group = group?.Invoke(this);
        Group?.Synchronize();
        Trainer = new Trainer(Model, Optimizer, objective, batch, trainSeed, binarize, Group, klWarmupEpochs);
    }

    public ObjectiveSpec Objective { get; }
    public OptimizerSpec OptimizerSpec { get; }
    public VaeModel Model { get; }
    public Optimizer Optimizer { get; }
    public DeviceDataSet Data { get; }
    public ReplicaGroup? Group { get; }
    public Trainer Trainer { get; }

    /// <summary>One epoch over the rig's images, as the training loop steps it; its summary.</summary>
    public EpochSummary Epoch()
    {
        var pass = Trainer.BeginEpoch(Data);
        for (int b = 0; b < pass.Batches; b++) Trainer.Step(pass, b);
        Trainer.FinishSteps(pass);
        return Trainer.EndEpoch(pass);
    }

    /// <summary><paramref name="epochs"/> epochs; the last one's summary.</summary>
    public EpochSummary Epochs(int epochs)
    {
        EpochSummary? last = null;
        for (int e = 0; e < epochs; e++) last = Epoch();
        return last ?? throw new ArgumentOutOfRangeException(nameof(epochs));
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Group?.Dispose();
        Data.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
