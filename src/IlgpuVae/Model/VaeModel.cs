using IlgpuVae.Data;
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
/// With an IAF posterior, z₀ = μ + σ·ε goes through the flow's steps to <see cref="Z"/> = z_T, and the KL term is
/// the single-sample estimate log q(z_T|x) − log p(z_T); a MADE decoder reads x itself as well as z.
/// </summary>
internal sealed class VaeModel : IDisposable
{
    readonly ComputeDevice device;
    readonly MemoryBuffer1D<float, Stride1D.Dense> parameters, gradients, input, eps, prior, z, dz, allCodes;
    readonly MemoryBuffer1D<double, Stride1D.Dense> nllRows, klTerms, mmdRows, terms, totals;
    readonly MemoryBuffer1D<int, Stride1D.Dense> faults;
    // One output and one output-gradient buffer per layer, [MaxBatch, outputs]; what each layer keeps from its
    // forward to its backward; one workspace all layers share.
    readonly MemoryBuffer1D<float, Stride1D.Dense>[] encoderOut, encoderGrad, decoderOut, decoderGrad, encoderKept, decoderKept;
    readonly MemoryBuffer1D<float, Stride1D.Dense> workspace, masks;
    // An IAF posterior's buffers: the context [B, C] and its gradient; z_t and ∂L/∂z_t [B, k] for t < T (z_T is z);
    // each step's layers' outputs and output gradients, the last one [m | s].
    readonly MemoryBuffer1D<float, Stride1D.Dense> context, contextGrad;
    readonly MemoryBuffer1D<float, Stride1D.Dense>[] flowZ, flowDz;
    readonly MemoryBuffer1D<float, Stride1D.Dense>[][] flowOut, flowGrad;
    readonly double[] hostTerms = new double[Term.Count];
    // The key the next Encode draws ε with (null: ε is in place already), and its first row's counter.
    ulong? noiseKey;
    long noiseOffset;
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
        var everyLayer = AllLayers(Layout).ToList();
        long widest = everyLayer
            .Max(l => Math.Max((long)maxBatch * Math.Max(l.Inputs, l.Outputs), Math.Max(l.KeptFloats(maxBatch), l.WorkspaceFloats(maxBatch))));
        if (widest > int.MaxValue)
            throw new ArgumentException($"A batch of {maxBatch} rows makes layers of {widest} values; kernels index them with 32-bit integers. Use a smaller RunConfig.BatchSize.");
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
        allCodes = memory.Floats((long)maxBatch * k);
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
        workspace = memory.Floats(everyLayer.Max(l => l.WorkspaceFloats(maxBatch)));
        masks = memory.Floats(Layout.HasMasks ? Layout.Count : 1);
        if (Layout.HasMasks) masks.View.CopyFromCPU(MaskValues(Layout));
        int contextWidth = spec.Flow?.ContextDim ?? 0;
        context = memory.Floats(Math.Max(1, (long)maxBatch * contextWidth));
        contextGrad = memory.Floats(Math.Max(1, (long)maxBatch * contextWidth));
        flowZ = Layout.Flow.Select(_ => memory.Floats((long)maxBatch * k)).ToArray();
        flowDz = Layout.Flow.Select(_ => memory.Floats((long)maxBatch * k)).ToArray();
        flowOut = Layout.Flow.Select(step => step.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray()).ToArray();
        flowGrad = Layout.Flow.Select(step => step.Select(l => memory.Floats((long)maxBatch * l.Outputs)).ToArray()).ToArray();
    }

    static IEnumerable<Layer> AllLayers(ParameterLayout layout) =>
        layout.Encoder.Concat(layout.Decoder).Concat(layout.Flow.SelectMany(step => step))
            .Concat(layout.Context is { } c ? [c] : Array.Empty<Layer>());

    /// <summary>1 for every parameter but a masked layer's absent weights.</summary>
    static float[] MaskValues(ParameterLayout layout)
    {
        var values = new float[layout.Count];
        Array.Fill(values, 1f);
        foreach (var t in layout.Tensors)
            if (t.Mask is { } mask) Array.Copy(mask, 0, values, t.Offset, t.Length);
        return values;
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
    /// <summary>z [MaxBatch, k] after <see cref="Encode"/> (z_T, after the flow, with an IAF posterior).</summary>
    public ArrayView<float> Z => z.View;
    /// <summary>z₀ = μ + σ·ε [MaxBatch, k] after <see cref="Encode"/>: the flow's input, or <see cref="Z"/> itself without one.</summary>
    public ArrayView<float> Z0 => flowZ.Length > 0 ? flowZ[0].View : z.View;
    /// <summary>
    /// Every replica's codes [global batch, k] for a data-parallel step's MMD, this replica's at its shard's rows
    /// (<see cref="ComputeDivergences"/>); unused on one device, where <see cref="Z"/> holds the whole batch.
    /// </summary>
    public ArrayView<float> AllCodes => allCodes.View;
    /// <summary>The MMD's row terms [B + M] (each code row's, then each prior row's share of MMD²) after <see cref="Compute"/>.</summary>
    public ArrayView<double> MmdRows => mmdRows.View;
    /// <summary>An IAF posterior's context vectors [MaxBatch, C] after <see cref="Encode"/>.</summary>
    public ArrayView<float> Context => context.View;
    /// <summary>The KL term's elements [MaxBatch, k] after <see cref="Encode"/> (<see cref="Kernels.Flows"/> under a flow), in double.</summary>
    public ArrayView<double> KlTerms => klTerms.View;
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
    /// uniform in ±1/√fan_in, drawn on the device from the counter-based generator (one key per tensor); a
    /// masked weight's absent entries then set to zero, a tensor with a constant (a flow's s bias) set to it.
    /// </summary>
    public void Initialize(ulong seed)
    {
        ulong key = 0;
        foreach (var t in Layout.Tensors)
        {
            float bound = t.Constant is { } c ? 0f : 1f / MathF.Sqrt(t.FanIn);
            float center = t.Constant ?? 0f;
            var values = Parameters.SubView(t.Offset, t.Length);
            Kernels.FillUniform(CounterRng.Key(seed, RandomStreams.Initialization, key++), center - bound, center + bound, t.Length, values);
            if (t.Mask is not null) Kernels.ApplyMask(t.Length, masks.View.SubView(t.Offset, t.Length), values);
        }
    }

    /// <summary>0/1 per parameter: which weights exist (every one but a masked layer's absent ones).</summary>
    public ArrayView<float> Masks => masks.View;

    /// <summary>
    /// Draws <paramref name="priorCount"/> prior samples now, and arranges for the next <see cref="Encode"/> to
    /// draw its ε inside the reparameterization (keyed by seed and step, as the prior samples are). A replica's shard
    /// passes its <paramref name="firstRow"/>, so its rows draw the ε they draw in the whole batch; every replica draws
    /// all the prior samples, which every code meets in the MMD.
    /// </summary>
    public void DrawNoise(ulong seed, ulong step, int batch, int priorCount, int firstRow = 0)
    {
        CheckBatch(batch, priorCount);
        noiseKey = CounterRng.Key(seed, RandomStreams.Epsilon, step);
        noiseOffset = (long)firstRow * Spec.LatentDim;
        Kernels.FillNormal(CounterRng.Key(seed, RandomStreams.Prior, step), priorCount * Spec.LatentDim, Prior);
    }

    /// <summary>
    /// heads = encoder(x) and z = μ + σ·ε for the first <paramref name="batch"/> rows — then, with an IAF
    /// posterior, the context and the flow's steps from z₀ to z.
    /// </summary>
    public void Encode(int batch)
    {
        CheckBatch(batch, 0);
        Forward(Layout.Encoder, encoderOut, encoderKept, Input, batch, Buffers(default));
        bool flow = Layout.Flow.Count > 0;
        Kernels.Reparameterize(batch, Spec.LatentDim, noiseKey, flow, Heads, Epsilon, flow ? flowZ[0].View : Z, klTerms.View, noiseOffset);
        (noiseKey, noiseOffset) = (null, 0);
        if (!flow) return;
        Layout.Context!.Forward(Buffers(default), batch, HeadsInput, context.View);
        var buffers = Buffers(default) with { Context = context.View };
        for (int t = 0; t < Layout.Flow.Count; t++)
        {
            Forward(Layout.Flow[t], flowOut[t], null, flowZ[t].View, batch, buffers);
            bool last = t == Layout.Flow.Count - 1;
            Kernels.FlowStep(batch, Spec.LatentDim, last, flowZ[t].View, flowOut[t][^1].View, last ? Z : flowZ[t + 1].View, klTerms.View);
        }
    }

    /// <summary>What the heads (and an IAF's context) read: the last hidden layer's output, or x.</summary>
    ArrayView<float> HeadsInput => encoderOut.Length > 1 ? encoderOut[^2].View : Input;

    /// <summary>The decoder's output for the codes in <see cref="Z"/> (and, for a MADE decoder, the images in <see cref="Input"/>).</summary>
    public void Decode(int batch)
    {
        CheckBatch(batch, 0);
        if (Spec.Decoder == DecoderKind.Made)
            Forward(Layout.Decoder, decoderOut, decoderKept, Input, batch, Buffers(default) with { Context = Z });
        else
            Forward(Layout.Decoder, decoderOut, decoderKept, Z, batch, Buffers(default));
    }

    /// <summary>
    /// Images drawn from a MADE decoder for the codes in <see cref="Z"/>, pixel by pixel in raster order into
    /// <see cref="Input"/> (each pass of the decoder sees the pixels drawn so far): Bernoulli draws keyed by
    /// <paramref name="key"/> and the pixel, or the Gaussian's means.
    /// </summary>
    public void SampleAutoregressive(int batch, ulong key)
    {
        if (Spec.Decoder != DecoderKind.Made) throw new InternalFaultException("Autoregressive sampling needs a MADE decoder.");
        CheckBatch(batch, 0);
        int d = Spec.InputDim;
        Input.SubView(0, (long)batch * d).MemSetToZero();
        for (int pixel = 0; pixel < d; pixel++)
        {
            Decode(batch);
            Kernels.SamplePixel(batch, d, pixel, Spec.Likelihood, CounterRng.Key(key, RandomStreams.Pictures, (ulong)pixel), DecoderOutput, Input);
        }
    }

    LayerBuffers Buffers(MemoryBuffer1D<float, Stride1D.Dense>? kept) =>
        new(Kernels, Parameters, Gradients, kept?.View ?? default, workspace.View) { Masks = masks.View };

    // Each layer's output feeds the next.
    void Forward(IReadOnlyList<Layer> layers, MemoryBuffer1D<float, Stride1D.Dense>[] outputs, MemoryBuffer1D<float, Stride1D.Dense>[]? kept,
        ArrayView<float> input, int batch, LayerBuffers buffers)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Forward(buffers with { Kept = kept?[i].View ?? default }, batch, input, outputs[i].View);
            input = outputs[i].View;
        }
    }

    /// <summary>
    /// −log p(x|z) per row into <see cref="NllRows"/>, for the decoder output already in place and x in
    /// <see cref="Input"/>: row b's x is Input's row b / <paramref name="xRepeat"/> (an image's importance samples share it).
    /// </summary>
    public void ReconstructionNll(int batch, int xRepeat = 1)
    {
        CheckBatch(batch, 0);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, 0f, DecoderOutput, Input, nllRows.View, decoderGrad[^1].View, xRepeat);
    }

    /// <summary>Whether the decoder reads x itself (a MADE conditions each pixel on the ones before it), beyond the likelihood.</summary>
    public bool DecoderReadsInput => Spec.Decoder == DecoderKind.Made;

    /// <summary>
    /// The objective's forward pass on the first <paramref name="batch"/> rows of <see cref="Input"/>, leaving the
    /// partial sums of its terms on the device; with <paramref name="backward"/>, ∂loss/∂θ in <see cref="Gradients"/>.
    /// The MMD launch also finishes the reparameterization's backward, so the launches are: encoder, sampling,
    /// decoder, likelihood, decoder backward, MMD, encoder backward (and a flow's steps either side of the sampling).
    /// </summary>
    public void Compute(ObjectiveSpec objective, int batch, bool backward)
    {
        var whole = Shard.Whole(batch);
        ComputeCodes(objective, whole, backward);
        ComputeDivergences(objective, whole, backward, Z);
    }

    /// <summary>
    /// A step's first half on <paramref name="shard"/>'s rows (in <see cref="Input"/> from row 0): encoder, sampling,
    /// decoder, likelihood and, with <paramref name="backward"/>, the decoder's backward, the likelihood's gradient
    /// scaled by 1/(global batch). Leaves the shard's codes in <see cref="Z"/> for the other replicas' MMD.
    /// </summary>
    public void ComputeCodes(ObjectiveSpec objective, Shard shard, bool backward)
    {
        int batch = shard.Rows;
        CheckBatch(batch, objective.PriorCount(shard.Global));
        CheckBatch(shard.Global, 0);
        // Forward only, a batch too small for the MMD still has its −ELBO (the MMD is left out of its terms).
        if (backward && !objective.CanEstimateMmd(shard.Global) && objective.MmdWeight != 0)
            throw new ArgumentException($"The unbiased MMD needs at least {ObjectiveSpec.UnbiasedMmdMinimum} codes and prior draws; got {shard.Global} and {objective.PriorCount(shard.Global)}.");
        Encode(batch);
        Decode(batch);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, backward ? 1f / shard.Global : 0f,
            DecoderOutput, Input, nllRows.View, decoderGrad[^1].View);
        if (backward) DecoderBackward(batch);
    }

    /// <summary>
    /// A step's second half: the MMD of every code of the global batch in <paramref name="codes"/> [global, k] (this
    /// shard's rows at its offset; <see cref="Z"/> itself on one device) against the prior draws — this shard's code
    /// rows' terms and gradients, and the prior rows' terms where the shard holds row 0 — then the rest of the backward.
    /// The KL's gradient weight is (1 − α)/(global batch); <see cref="ReduceTerms"/> then reduces a global batch's
    /// row terms (a replica group gathers them into its first replica first).
    /// </summary>
    public void ComputeDivergences(ObjectiveSpec objective, Shard shard, bool backward, ArrayView<float> codes)
    {
        int batch = shard.Rows, global = shard.Global, m = objective.PriorCount(global), k = Spec.LatentDim;
        bool mmd = objective.CanEstimateMmd(global);
        float klGradScale = (float)(objective.KlWeight / global);
        // The MMD is computed for the metrics even when its weight is 0; its gradient only when it counts. Without
        // a flow it also finishes the reparameterization's backward; with one, dz goes back through the flow first.
        bool flow = Layout.Flow.Count > 0;
        if (mmd)
            Kernels.Mmd(new MmdProblem
            {
                B = global, M = m, Latent = k, Kernel = (int)objective.Kernel,
                KernelParameter = (float)objective.KernelParameter, Unbiased = objective.Estimator == MmdEstimator.Unbiased ? 1 : 0,
                GradScale = backward ? (float)objective.MmdWeight : 0f, Backward = backward && !flow ? 1 : 0, KlGradScale = klGradScale,
                OwnFirst = shard.Offset, OwnRows = batch, SkipPrior = shard.HoldsFirstRow ? 0 : 1,
            }, codes, Prior, Heads, Epsilon, mmdRows.View, dz.View, encoderGrad[^1].View);
        else if (backward && !flow)
            Kernels.ReparameterizeBackward(batch, k, klGradScale, false, Heads, Epsilon, dz.View, encoderGrad[^1].View);
        if (backward && flow) FlowBackward(batch, klGradScale);
        if (backward) EncoderBackward(batch);
        lastWeights = new LossWeights
        {
            B = global, KlTerms = global * k, MmdRows = mmd ? global + m : 0, Kl = (float)objective.KlWeight, Mmd = (float)objective.MmdWeight,
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

    // From the output's gradient (written by the likelihood) back to dz = ∂loss/∂z (before the MMD adds in):
    // through the first layer's input gradient, or — for a MADE decoder, whose input is x — summed over every
    // layer's context gradient.
    void DecoderBackward(int batch)
    {
        if (Spec.Decoder == DecoderKind.Made)
            Backward(Layout.Decoder, decoderOut, decoderGrad, decoderKept, Input, null, batch, Buffers(null) with { Context = Z, ContextGradient = dz.View });
        else
            Backward(Layout.Decoder, decoderOut, decoderGrad, decoderKept, Z, dz.View, batch, Buffers(null));
    }

    // From ∂loss/∂z_T (dz) back through the steps to ∂loss/∂z₀, then the heads' gradient: each step's own
    // element-wise backward writes the direct part of ∂loss/∂z_t, and its MADE adds its path there and into the
    // context's gradient, which every layer of every step reads.
    void FlowBackward(int batch, float klGradScale)
    {
        int k = Spec.LatentDim, steps = Layout.Flow.Count;
        var buffers = Buffers(null) with { Context = context.View, ContextGradient = contextGrad.View };
        bool contextWritten = false;
        for (int t = steps - 1; t >= 0; t--)
        {
            bool last = t == steps - 1;
            Kernels.FlowStepBackward(batch, k, last, klGradScale, flowZ[t].View, flowOut[t][^1].View, last ? Z : flowZ[t + 1].View,
                last ? dz.View : flowDz[t + 1].View, flowGrad[t][^1].View, flowDz[t].View);
            contextWritten = Backward(Layout.Flow[t], flowOut[t], flowGrad[t], null, flowZ[t].View, flowDz[t].View, batch, buffers,
                contextWritten, accumulateInputOf: 0);
        }
        Kernels.ReparameterizeBackward(batch, k, klGradScale, true, Heads, Epsilon, flowDz[0].View, encoderGrad[^1].View);
    }

    // From ∂loss/∂heads back to every encoder parameter; the input x needs no gradient. An IAF's context layer
    // reads the heads' input too: its backward writes that input's gradient first, and the heads' adds to it.
    void EncoderBackward(int batch)
    {
        int heads = Layout.Encoder.Count - 1;
        if (Layout.Context is { } c)
            c.Backward(Buffers(null), batch, HeadsInput, contextGrad.View, Activation.Identity, heads > 0 ? encoderGrad[heads - 1].View : null);
        Backward(Layout.Encoder, encoderOut, encoderGrad, encoderKept, Input, null, batch, Buffers(null),
            accumulateInputOf: Layout.Context is null ? -1 : heads);
    }

    // Each layer's output gradient (already in grads[i]) gives, in one launch, its parameters' gradients and,
    // through the previous activation, the previous layer's output gradient — or inputGrad for the first layer —
    // added to what is there for layer accumulateInputOf. Masked layers also write the context's gradient, the
    // first one (contextWritten false) overwriting it, the rest adding; returns whether it has been written.
    bool Backward(IReadOnlyList<Layer> layers, MemoryBuffer1D<float, Stride1D.Dense>[] outputs,
        MemoryBuffer1D<float, Stride1D.Dense>[] grads, MemoryBuffer1D<float, Stride1D.Dense>[]? kept,
        ArrayView<float> input, ArrayView<float>? inputGrad, int batch, LayerBuffers buffers,
        bool contextWritten = false, int accumulateInputOf = -1)
    {
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            var inputs = i > 0 ? (ArrayView<float>)outputs[i - 1].View : input;
            var previous = i > 0 ? layers[i - 1].Activation : Activation.Identity;
            var target = i > 0 ? grads[i - 1].View : inputGrad;
            var b = buffers with
            {
                Kept = kept?[i].View ?? default, AccumulateInputGradient = i == accumulateInputOf, AccumulateContextGradient = contextWritten,
            };
            layers[i].Backward(b, batch, inputs, grads[i].View, previous, target);
            contextWritten |= layers[i] is MaskedLayer;
        }
        return contextWritten;
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
        foreach (var b in new[] { parameters, gradients, input, eps, prior, z, dz, allCodes, workspace, masks, context, contextGrad }
                     .Concat(encoderOut).Concat(encoderGrad).Concat(decoderOut).Concat(decoderGrad).Concat(encoderKept).Concat(decoderKept)
                     .Concat(flowZ).Concat(flowDz).Concat(flowOut.SelectMany(o => o)).Concat(flowGrad.SelectMany(g => g)))
            b.Dispose();
        foreach (var b in new[] { nllRows, klTerms, mmdRows, terms, totals })
            b.Dispose();
        faults.Dispose();
    }
}
