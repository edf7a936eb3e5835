using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// A VAE living on one accelerator: the flat parameter and gradient buffers, and the activations of one
/// batch of up to <see cref="MaxBatch"/> rows, all allocated once. <see cref="Compute"/> runs the objective's
/// forward pass and, when asked, every parameter's gradient; <see cref="ReduceTerms"/> turns the partial sums
/// into the loss terms on the device; <see cref="Run"/> does both and reads the terms — none of them allocates.
/// The caller fills <see cref="Input"/> and the noise first: <see cref="DrawNoise"/> (ε is then drawn inside
/// the reparameterization), or <see cref="Epsilon"/> and <see cref="Prior"/> from the host for tests and fixtures.
/// </summary>
public sealed class VaeModel : IDisposable
{
    readonly ComputeDevice device;
    readonly MemoryBuffer1D<float, Stride1D.Dense> parameters, gradients, input, eps, prior, z, dz;
    readonly MemoryBuffer1D<double, Stride1D.Dense> nllRows, klTerms, mmdRows, terms, totals;
    readonly MemoryBuffer1D<int, Stride1D.Dense> faults;
    // One output and one output-gradient buffer per layer, [MaxBatch, outputs]; what each layer keeps from its
    // forward to its backward; one workspace all layers share.
    readonly MemoryBuffer1D<float, Stride1D.Dense>[] encoderOut, encoderGrad, decoderOut, decoderGrad, encoderKept, decoderKept;
    readonly MemoryBuffer1D<float, Stride1D.Dense> workspace;
    readonly double[] hostTerms = new double[Term.Count];
    // The key the next Encode draws ε with; null: ε is in place already.
    ulong? noiseKey;
    // The sizes and weights of the last Compute, for ReduceTerms.
    LossWeights? lastWeights;

    public ModelSpec Spec { get; }
    public ParameterLayout Layout { get; }
    public int MaxBatch { get; }
    public int MaxPrior { get; }
    public ComputeDevice Device => device;

    public VaeModel(ComputeDevice device, ModelSpec spec, int maxBatch, int maxPrior = 0)
    {
        Spec = spec.Validate();
        if (maxBatch <= 0) throw new ArgumentException($"The batch size must be positive; got {maxBatch}.");
        this.device = device;
        Layout = new ParameterLayout(spec);
        long widest = Layout.Encoder.Concat(Layout.Decoder)
            .Max(l => Math.Max((long)maxBatch * Math.Max(l.Inputs, l.Outputs), Math.Max(l.KeptFloats(maxBatch), l.WorkspaceFloats(maxBatch))));
        if (widest > int.MaxValue)
            throw new ArgumentException($"A batch of {maxBatch} rows makes layers of {widest} values; kernels index them with 32-bit integers. Use a smaller --batch-size.");
        MaxBatch = maxBatch;
        MaxPrior = maxPrior > 0 ? maxPrior : maxBatch;
        var memory = new DeviceMemory(device, $"a {spec} model for batches of {maxBatch}");
        int k = spec.LatentDim;
        parameters = memory.Floats(Layout.Count);
        gradients = memory.Floats(Layout.Count);
        input = memory.Floats((long)maxBatch * spec.InputDim);
        eps = memory.Floats((long)maxBatch * k);
        prior = memory.Floats((long)MaxPrior * k);
        z = memory.Floats((long)maxBatch * k);
        dz = memory.Floats((long)maxBatch * k);
        nllRows = memory.Doubles(maxBatch);
        klTerms = memory.Doubles((long)maxBatch * k);
        mmdRows = memory.Doubles(maxBatch + MaxPrior);
        terms = memory.Doubles(Term.Count);
        totals = memory.Doubles(Term.Summed);
        faults = memory.Ints(1);
        encoderOut = Layout.Encoder.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        encoderGrad = Layout.Encoder.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        decoderOut = Layout.Decoder.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        decoderGrad = Layout.Decoder.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray();
        encoderKept = Layout.Encoder.Select(l => memory.Floats(l.KeptFloats(maxBatch))).ToArray();
        decoderKept = Layout.Decoder.Select(l => memory.Floats(l.KeptFloats(maxBatch))).ToArray();
        workspace = memory.Floats(Layout.Encoder.Concat(Layout.Decoder).Max(l => l.WorkspaceFloats(maxBatch)));
    }

    KernelSet Kernels => device.Kernels;

    public ArrayView<float> Parameters => parameters.View;
    public ArrayView<float> Gradients => gradients.View;
    /// <summary>x [MaxBatch, d].</summary>
    public ArrayView<float> Input => input.View;
    /// <summary>ε [MaxBatch, k].</summary>
    public ArrayView<float> Epsilon => eps.View;
    /// <summary>Prior draws [MaxPrior, k] for the MMD.</summary>
    public ArrayView<float> Prior => prior.View;
    /// <summary>z [MaxBatch, k] after <see cref="Encode"/>.</summary>
    public ArrayView<float> Z => z.View;
    /// <summary>[μ | log σ²] per row, [MaxBatch, 2k], after <see cref="Encode"/>.</summary>
    public ArrayView<float> Heads => encoderOut[^1].View;
    /// <summary>Logits (Bernoulli) or means (Gaussian), [MaxBatch, d], after <see cref="Decode"/>.</summary>
    public ArrayView<float> DecoderOutput => decoderOut[^1].View;
    /// <summary>−log p(x|z) per row after <see cref="Run"/> or <see cref="ReconstructionNll"/>.</summary>
    public ArrayView<double> NllRows => nllRows.View;
    /// <summary>Running sums of batch-size-weighted terms since the last <see cref="TakeTotals"/>.</summary>
    public ArrayView<double> Totals => totals.View;
    /// <summary>The step's terms on the device after <see cref="ReduceTerms"/>, indexed by <see cref="Term"/>.</summary>
    public ArrayView<double> Terms => terms.View;
    /// <summary>The optimizer's count of non-finite gradients, which <see cref="ReduceTerms"/> moves into the terms.</summary>
    public ArrayView<int> Faults => faults.View;

    /// <summary>
    /// PyTorch's default initialization of nn.Linear, nn.Conv2d and nn.ConvTranspose2d: weights and biases
    /// uniform in ±1/√fan_in, drawn on the device from the counter-based generator (one key per tensor).
    /// </summary>
    public void Initialize(ulong seed)
    {
        ulong key = 0;
        foreach (var t in Layout.Tensors)
        {
            float bound = 1f / MathF.Sqrt(t.FanIn);
            Kernels.FillUniform(CounterRng.Key(seed, RandomStreams.Initialization, key++), -bound, bound, t.Length, Parameters.SubView(t.Offset, t.Length));
        }
    }

    /// <summary>
    /// Draws <paramref name="priorCount"/> prior samples now, and arranges for the next <see cref="Encode"/> to
    /// draw its ε inside the reparameterization (keyed by seed and step, as the prior samples are).
    /// </summary>
    public void DrawNoise(ulong seed, ulong step, int batch, int priorCount)
    {
        CheckBatch(batch, priorCount);
        noiseKey = CounterRng.Key(seed, RandomStreams.Epsilon, step);
        Kernels.FillNormal(CounterRng.Key(seed, RandomStreams.Prior, step), priorCount * Spec.LatentDim, Prior);
    }

    /// <summary>heads = encoder(x) and z = μ + σ·ε for the first <paramref name="batch"/> rows.</summary>
    public void Encode(int batch)
    {
        CheckBatch(batch, 0);
        Forward(Layout.Encoder, encoderOut, encoderKept, Input, batch);
        Kernels.Reparameterize(batch, Spec.LatentDim, noiseKey, Heads, Epsilon, Z, klTerms.View);
        noiseKey = null;
    }

    /// <summary>The decoder's output for the codes in <see cref="Z"/>.</summary>
    public void Decode(int batch)
    {
        CheckBatch(batch, 0);
        Forward(Layout.Decoder, decoderOut, decoderKept, Z, batch);
    }

    LayerBuffers Buffers(MemoryBuffer1D<float, Stride1D.Dense> kept) => new(Kernels, Parameters, Gradients, kept.View, workspace.View);

    // Each layer's output feeds the next.
    void Forward(IReadOnlyList<Layer> layers, MemoryBuffer1D<float, Stride1D.Dense>[] outputs, MemoryBuffer1D<float, Stride1D.Dense>[] kept,
        ArrayView<float> input, int batch)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Forward(Buffers(kept[i]), batch, input, outputs[i].View);
            input = outputs[i].View;
        }
    }

    /// <summary>−log p(x|z) per row into <see cref="NllRows"/>, for the decoder output already in place and x in <see cref="Input"/>.</summary>
    public void ReconstructionNll(int batch)
    {
        CheckBatch(batch, 0);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, 0f, DecoderOutput, Input, nllRows.View, decoderGrad[^1].View);
    }

    /// <summary>
    /// The objective's forward pass on the first <paramref name="batch"/> rows of <see cref="Input"/>, leaving the
    /// partial sums of its terms on the device; with <paramref name="backward"/>, ∂loss/∂θ in <see cref="Gradients"/>.
    /// The MMD launch also finishes the reparameterization's backward, so the launches are: encoder, sampling,
    /// decoder, likelihood, decoder backward, MMD, encoder backward.
    /// </summary>
    public void Compute(ObjectiveSpec objective, int batch, bool backward)
    {
        int m = objective.PriorCount(batch), k = Spec.LatentDim;
        CheckBatch(batch, m);
        bool mmd = objective.CanEstimateMmd(batch);
        if (!mmd && objective.MmdWeight != 0)
            throw new ArgumentException($"The unbiased MMD needs at least {ObjectiveSpec.UnbiasedMmdMinimum} codes and prior samples; got {batch} and {m}.");
        Encode(batch);
        Decode(batch);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, backward ? 1f / batch : 0f,
            DecoderOutput, Input, nllRows.View, decoderGrad[^1].View);
        if (backward) DecoderBackward(batch);

        float klGradScale = (float)(objective.KlWeight / batch);
        // The MMD is computed for the metrics even when its weight is 0; its gradient only when it counts.
        if (mmd)
            Kernels.Mmd(new MmdProblem
            {
                B = batch, M = m, Latent = k, Kernel = (int)objective.Kernel,
                KernelParameter = (float)objective.KernelParameter, Unbiased = objective.Estimator == MmdEstimator.Unbiased ? 1 : 0,
                GradScale = backward ? (float)objective.MmdWeight : 0f, Backward = backward ? 1 : 0, KlGradScale = klGradScale,
            }, Z, Prior, Heads, Epsilon, mmdRows.View, dz.View, encoderGrad[^1].View);
        else if (backward)
            Kernels.ReparameterizeBackward(batch, k, klGradScale, Heads, Epsilon, dz.View, encoderGrad[^1].View);
        if (backward) EncoderBackward(batch);
        lastWeights = new LossWeights
        {
            B = batch, KlTerms = batch * k, MmdRows = mmd ? batch + m : 0, Kl = (float)objective.KlWeight, Mmd = (float)objective.MmdWeight,
        };
    }

    /// <summary>
    /// The last <see cref="Compute"/>'s terms into <see cref="Terms"/> on the device (and added into the running
    /// totals), with <see cref="Faults"/> moved into Terms[Faults]: run it after the optimizer step.
    /// </summary>
    public void ReduceTerms()
    {
        var w = lastWeights ?? throw new InternalFaultException("ReduceTerms ran before any Compute.");
        Kernels.LossTerms(w, nllRows.View, klTerms.View, mmdRows.View, Faults, Terms, Totals);
    }

    /// <summary>
    /// The objective on the first <paramref name="batch"/> rows of <see cref="Input"/>, with the current noise;
    /// with <paramref name="backward"/>, ∂loss/∂θ in <see cref="Gradients"/>. Waits for the device and reads the terms.
    /// </summary>
    public LossTerms Run(ObjectiveSpec objective, int batch, bool backward)
    {
        Compute(objective, batch, backward);
        ReduceTerms();
        terms.View.CopyToCPU(hostTerms);
        return LossTerms.From(hostTerms);
    }

    /// <summary>Reads and clears the running totals: Σ batch·term for recon, KL, MMD, loss.</summary>
    public double[] TakeTotals()
    {
        var sums = totals.GetAsArray1D();
        totals.MemSetToZero();
        return sums;
    }

    /// <summary>
    /// Starts the running totals from <paramref name="sums"/> (an interrupted epoch's, so the resumed steps add
    /// onto them in the same order as an uninterrupted run) or from zero.
    /// </summary>
    public void StartTotals(double[]? sums)
    {
        if (sums is null) totals.MemSetToZero();
        else totals.View.CopyFromCPU(sums);
    }

    // From the output's gradient (written by the likelihood) back to dz = ∂loss/∂z (before the MMD adds in).
    void DecoderBackward(int batch) => Backward(Layout.Decoder, decoderOut, decoderGrad, decoderKept, Z, dz.View, batch);

    // From ∂loss/∂heads back to every encoder parameter; the input x needs no gradient.
    void EncoderBackward(int batch) => Backward(Layout.Encoder, encoderOut, encoderGrad, encoderKept, Input, null, batch);

    // Each layer's output gradient (already in grads[i]) gives, in one launch, its parameters' gradients and,
    // through the previous activation, the previous layer's output gradient — or inputGrad for the first layer.
    void Backward(IReadOnlyList<Layer> layers, MemoryBuffer1D<float, Stride1D.Dense>[] outputs,
        MemoryBuffer1D<float, Stride1D.Dense>[] grads, MemoryBuffer1D<float, Stride1D.Dense>[] kept,
        ArrayView<float> input, ArrayView<float>? inputGrad, int batch)
    {
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            var inputs = i > 0 ? (ArrayView<float>)outputs[i - 1].View : input;
            var previous = i > 0 ? layers[i - 1].Activation : Activation.Identity;
            var target = i > 0 ? grads[i - 1].View : inputGrad;
            layers[i].Backward(Buffers(kept[i]), batch, inputs, grads[i].View, previous, target);
        }
    }

    void CheckBatch(int batch, int priorCount)
    {
        if (batch <= 0 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"The batch has {batch} rows; this model was allocated for 1 to {MaxBatch}.");
        if (priorCount < 0 || priorCount > MaxPrior)
            throw new ArgumentOutOfRangeException(nameof(priorCount), $"{priorCount} prior samples asked for; this model holds up to {MaxPrior}.");
    }

    public void Dispose()
    {
        foreach (var b in new[] { parameters, gradients, input, eps, prior, z, dz, workspace }.Concat(encoderOut).Concat(encoderGrad)
                     .Concat(decoderOut).Concat(decoderGrad).Concat(encoderKept).Concat(decoderKept))
            b.Dispose();
        foreach (var b in new[] { nllRows, klTerms, mmdRows, terms, totals })
            b.Dispose();
        faults.Dispose();
    }
}
