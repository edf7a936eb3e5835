using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Model;

namespace IlgpuVae.Training;

/// <summary>One replica of a training step: a device with its own copy of the model, the optimizer state and the training data.</summary>
internal sealed record Replica(ComputeDevice Device, VaeModel Model, Optimizer Optimizer, DeviceDataSet Data);

/// <summary>
/// Where a training step (<see cref="Trainer.Step"/>) runs, and the hook between its halves where replicas exchange
/// what they computed: one model on one device (<see cref="OneReplica"/>, where every exchange is nothing), or the
/// replicas of a data-parallel group (<see cref="ReplicaGroup"/>), each computing its shard of the global batch.
/// </summary>
internal interface IStepReplicas
{
    /// <summary>Replicas in this process.</summary>
    int LocalCount { get; }

    /// <summary>Replicas in every process together.</summary>
    int Count { get; }

    Replica this[int local] { get; }

    /// <summary>Replica <paramref name="local"/>'s rows of a global batch of <paramref name="rows"/>.</summary>
    Shard ShardOf(int local, int rows);

    /// <summary><paramref name="action"/>(i) for each replica of this process, each on its device, done when this returns.</summary>
    void ForEach(Action<int> action);

    /// <summary>After every replica computed its codes: every code of the global batch where each replica's MMD reads it.</summary>
    void ExchangeCodes(int rows, bool withMmd);

    /// <summary>Where replica <paramref name="local"/>'s MMD reads the global batch's codes, after <see cref="ExchangeCodes"/>.</summary>
    ArrayView<float> Codes(int local, bool withMmd);

    /// <summary>After every replica's backward: the global batch's gradient on every replica.</summary>
    void ExchangeGradients(int rows);

    /// <summary>After the update: the row terms of the loss where the first replica reduces them.</summary>
    void GatherRowTerms(int rows, bool withMmd);

    /// <summary>Whether this process holds the first replica, which reduces the loss terms (and writes the run folder).</summary>
    bool HoldsFirstReplica { get; }

    /// <summary>The first process's answer to whether training goes on after this step, in every process.</summary>
    bool AgreeToContinue(bool goOn);

    /// <summary>Seconds spent exchanging since the last call (0 on one device).</summary>
    double TakeExchangeSeconds();
}

/// <summary>One model on one device: a step's whole batch is its shard, its codes its own, and nothing is exchanged.</summary>
internal sealed class OneReplica(VaeModel model, Optimizer optimizer) : IStepReplicas
{
    Replica? replica;

    /// <summary>The training data of the step (the trainer's epoch's), set before each step.</summary>
    public void Use(DeviceDataSet data)
    {
        if (replica?.Data != data) replica = new Replica(model.Device, model, optimizer, data);
    }

    public int LocalCount => 1;
    public int Count => 1;
    public Replica this[int local] => replica ?? throw new InternalFaultException("A step ran before its data was set.");
    public Shard ShardOf(int local, int rows) => Shard.Whole(rows);
    public void ForEach(Action<int> action) => action(0);
    public void ExchangeCodes(int rows, bool withMmd) { }
    public ArrayView<float> Codes(int local, bool withMmd) => model.Z;
    public void ExchangeGradients(int rows) { }
    public void GatherRowTerms(int rows, bool withMmd) { }
    public bool HoldsFirstReplica => true;
    public bool AgreeToContinue(bool goOn) => goOn;
    public double TakeExchangeSeconds() => 0;
}
