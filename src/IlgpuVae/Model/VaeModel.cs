using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// A VAE living on one accelerator: its three pieces (<see cref="ModelPieces"/>: the encoder, the posterior q(z|x),
/// the decoder p(x|z)), the flat parameter and gradient buffers, and the buffers of one batch of up to
/// <see cref="MaxBatch"/> rows that the pieces share, all allocated once. A step reads as the objective does:
/// <see cref="ComputeCodes"/> encodes, samples z, decodes and takes the likelihood (and their backward to ∂L/∂z);
/// <see cref="ComputeDivergences"/> adds the MMD and the KL terms' gradients and goes back through the posterior and
/// the encoder; <see cref="ReduceTerms"/> turns the partial sums into the loss terms on the device. None allocates.
/// The caller fills <see cref="Input"/> and the noise first: <see cref="DrawNoise"/> (ε is then drawn inside the
/// sampling), or <see cref="Epsilon"/> and <see cref="Prior"/> from the host for tests and fixtures.
/// </summary>
internal sealed class VaeModel : IDisposable
{
    readonly ModelPieces pieces;
    readonly MemoryBuffer1D<float, Stride1D.Dense> parameters, gradients, masks, workspace, input, eps, prior, z, dz, allCodes, klScales;
    readonly MemoryBuffer1D<double, Stride1D.Dense> nllRows, klTerms, klMeans, mmdRows, tcLse, tcRows, terms, totals;
    readonly MemoryBuffer1D<int, Stride1D.Dense> faults;
    readonly double[] hostTerms = new double[Term.Count];
    // The key the next Encode draws ε with (null: ε is in place already), and its first row's counter.
    ulong? noiseKey;
    long noiseOffset;
    // The sizes and weights of the last Compute, for ReduceTerms.
    LossWeights? lastWeights;

    public ModelSpec Spec { get; }
    public ParameterLayout Layout => pieces.Layout;
    public int MaxBatch { get; }
    public int MaxPrior { get; }
    public ComputeDevice Device { get; }

    public Encoder Encoder => pieces.Encoder;
    public IPosterior Posterior => pieces.Posterior;
    public IDecoder Decoder => pieces.Decoder;
    /// <summary>Every layer of the model.</summary>
    public IEnumerable<Layer> Layers => pieces.Layers;

    public VaeModel(ComputeDevice device, ModelSpec spec, int maxBatch, int maxPrior = 0)
    {
        Spec = spec.Validate();
        if (maxBatch <= 0) throw new ArgumentException($"The batch size must be positive; got {maxBatch}.");
        pieces = ModelPieces.Build(spec);
        long widest = Layers.Max(l => Math.Max((long)maxBatch * Math.Max(l.Inputs, l.Outputs), Math.Max(l.KeptFloats(maxBatch), l.WorkspaceFloats(maxBatch))));
        if (widest > int.MaxValue)
            throw new ArgumentException($"A batch of {maxBatch} rows makes layers of {widest} values; kernels index them with 32-bit integers. Use a smaller RunConfig.BatchSize.");
        Device = device;
        MaxBatch = maxBatch;
        MaxPrior = maxPrior > 0 ? maxPrior : maxBatch;
        var memory = new DeviceMemory(device, $"a {spec} model for batches of {maxBatch}");
        int k = spec.LatentDim;
        parameters = memory.Floats(Layout.Count);
        gradients = memory.Floats(Layout.Count);
        masks = memory.Floats(Layout.HasMasks ? Layout.Count : 1);
        if (Layout.HasMasks) masks.View.CopyFromCPU(MaskValues(Layout));
        workspace = memory.Floats(Layers.Max(l => l.WorkspaceFloats(maxBatch)));
        input = memory.Floats((long)maxBatch * spec.InputDim);
        eps = memory.Floats((long)maxBatch * k);
        prior = memory.Floats((long)MaxPrior * k);
        z = memory.Floats((long)maxBatch * k);
        dz = memory.Floats((long)maxBatch * k);
        allCodes = memory.Floats((long)maxBatch * k);
        nllRows = memory.Doubles(maxBatch);
        klTerms = memory.Doubles((long)maxBatch * k);
        klMeans = memory.Doubles(k);
        klScales = memory.Floats(k);
        mmdRows = memory.Doubles(maxBatch + MaxPrior);
        // β-TC-VAE's log-sum-exps and row terms: a few doubles a row, allocated for every model so a step never allocates.
        tcLse = memory.Doubles((long)maxBatch * (k + 1));
        tcRows = memory.Doubles((long)maxBatch * TotalCorrelation.TermsPerRow);
        terms = memory.Doubles(Term.Count);
        totals = memory.Doubles(Term.Summed);
        faults = memory.Ints(1);
        Encoder.Allocate(memory, maxBatch);
        Posterior.Allocate(memory, maxBatch);
        Decoder.Allocate(memory, maxBatch);
        Buffers = new LayerBuffers(device.Kernels, parameters.View, gradients.View, default, workspace.View) { Masks = masks.View };
    }

    /// <summary>1 for every parameter but a masked layer's absent weights.</summary>
    static float[] MaskValues(ParameterLayout layout)
    {
        var values = new float[layout.Count];
        Array.Fill(values, 1f);
        foreach (var t in layout.Tensors)
            if (t.Mask is { } mask) Array.Copy(mask, 0, values, t.Offset, t.Length);
        return values;
    }

    public KernelSet Kernels => Device.Kernels;

    /// <summary>What every layer's launches use: the kernels, the parameters and gradients, the masks and the shared workspace.</summary>
    public LayerBuffers Buffers { get; }

    public ArrayView<float> Parameters => parameters.View;
    public ArrayView<float> Gradients => gradients.View;
    /// <summary>0/1 per parameter: which weights exist (every one but a masked layer's absent ones).</summary>
    public ArrayView<float> Masks => masks.View;
    /// <summary>x [MaxBatch, d].</summary>
    public ArrayView<float> Input => input.View;
    /// <summary>ε [MaxBatch, k].</summary>
    public ArrayView<float> Epsilon => eps.View;
    /// <summary>Prior draws [MaxPrior, k] for the MMD.</summary>
    public ArrayView<float> Prior => prior.View;
    /// <summary>z [MaxBatch, k] after <see cref="Encode"/>: the code the decoder and the MMD see (z_T after a flow).</summary>
    public ArrayView<float> Z => z.View;
    /// <summary>∂L/∂z [MaxBatch, k]: the decoder's backward writes it, the MMD adds to it, the posterior's backward reads it.</summary>
    public ArrayView<float> Dz => dz.View;
    /// <summary>z₀ = μ + σ·ε [MaxBatch, k] after <see cref="Encode"/>: a flow's input, or <see cref="Z"/> itself without one.</summary>
    public ArrayView<float> Z0 => Posterior.Z0(this);
    /// <summary>
    /// Every replica's codes [global batch, k] for a data-parallel step's MMD, this replica's at its shard's rows; unused
    /// on one device, where <see cref="Z"/> holds the whole batch.
    /// </summary>
    public ArrayView<float> AllCodes => allCodes.View;
    /// <summary>The MMD's row terms [B + M] (each code row's, then each prior row's share of MMD²) after a step.</summary>
    public ArrayView<double> MmdRows => mmdRows.View;
    /// <summary>β-TC-VAE's row terms [B, 3] (each code's MI, TC and DWKL) after a step of that objective.</summary>
    public ArrayView<double> TcRows => tcRows.View;
    /// <summary>The posterior's context [MaxBatch, C] after <see cref="Encode"/> (an IAF's; empty for the Gaussian).</summary>
    public ArrayView<float> Context => Posterior.Context;
    /// <summary>The KL term's elements [MaxBatch, k] after <see cref="Encode"/>, in double (<see cref="IPosterior.KlTerm"/> says what they sum to).</summary>
    public ArrayView<double> KlTerms => klTerms.View;
    /// <summary>Free bits: each dimension's batch-mean KL [k] after a step's divergences (<see cref="Kernels.FreeBits"/>).</summary>
    public ArrayView<double> KlMeans => klMeans.View;
    /// <summary>Free bits: each dimension's KL gradient weight [k], w or 0, after a step's divergences.</summary>
    public ArrayView<float> KlScales => klScales.View;
    /// <summary>[μ | log σ²] per row, [MaxBatch, 2k], after <see cref="Encode"/>.</summary>
    public ArrayView<float> Heads => Encoder.Heads;
    /// <summary>Logits (Bernoulli) or means (Gaussian), [MaxBatch, d], after <see cref="Decode"/>.</summary>
    public ArrayView<float> DecoderOutput => Decoder.Output;
    /// <summary>−log p(x|z) per row after a step or <see cref="ReconstructionNll"/>.</summary>
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

    /// <summary>
    /// Draws <paramref name="priorCount"/> prior samples now, and arranges for the next <see cref="Encode"/> to
    /// draw its ε inside the sampling (keyed by seed and step, as the prior samples are). A replica's shard passes its
    /// <paramref name="firstRow"/>, so its rows draw the ε they draw in the whole batch; every replica draws all the
    /// prior samples, which every code meets in the MMD.
    /// </summary>
    public void DrawNoise(ulong seed, ulong step, int batch, int priorCount, int firstRow = 0)
    {
        CheckBatch(batch, priorCount);
        noiseKey = CounterRng.Key(seed, RandomStreams.Epsilon, step);
        noiseOffset = (long)firstRow * Spec.LatentDim;
        Kernels.FillNormal(CounterRng.Key(seed, RandomStreams.Prior, step), priorCount * Spec.LatentDim, Prior);
    }

    /// <summary>The heads = encoder(x) and z ~ q(z|x) for the first <paramref name="batch"/> rows, with the KL term's elements.</summary>
    public void Encode(int batch)
    {
        CheckBatch(batch, 0);
        Encoder.Forward(Buffers, batch, Input);
        Posterior.Sample(this, batch, noiseKey, noiseOffset);
        (noiseKey, noiseOffset) = (null, 0);
    }

    /// <summary>
    /// z ~ q(z|x) and the KL elements for the first <paramref name="batch"/> rows from the variational parameters in place —
    /// <see cref="Heads"/> and the posterior's <see cref="Context"/> — without running the encoder, ε drawn as for <see cref="Encode"/>.
    /// </summary>
    public void SampleGiven(int batch)
    {
        CheckBatch(batch, 0);
        Posterior.SampleGiven(this, batch, noiseKey, noiseOffset);
        (noiseKey, noiseOffset) = (null, 0);
    }

    /// <summary>
    /// After <see cref="SampleGiven"/> and <see cref="Decode"/>: each row's −log p(x|z) into <see cref="NllRows"/>, and the
    /// gradient of its own −ELBO (not a batch mean: each row's variational parameters are its own) with respect to its
    /// heads (<see cref="Encoder.HeadsGradient"/>) and the posterior's context (<see cref="IPosterior.ContextGradient"/>).
    /// The decoder's backward also writes its weights' gradients, which nothing reads.
    /// </summary>
    public void VariationalGradient(int batch)
    {
        CheckBatch(batch, 0);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, 1f, DecoderOutput, Input, nllRows.View, Decoder.OutputGradient);
        Decoder.Backward(this, batch);
        Posterior.BackwardToVariational(this, batch, 1f);
    }

    /// <summary>The decoder's output for the codes in <see cref="Z"/> (and, for an autoregressive decoder, the images in <see cref="Input"/>).</summary>
    public void Decode(int batch)
    {
        CheckBatch(batch, 0);
        Decoder.Forward(this, batch);
    }

    /// <summary>
    /// −log p(x|z) per row into <see cref="NllRows"/>, for the decoder output already in place and x in
    /// <see cref="Input"/>: row b's x is Input's row b / <paramref name="xRepeat"/> (an image's importance samples share it).
    /// </summary>
    public void ReconstructionNll(int batch, int xRepeat = 1)
    {
        CheckBatch(batch, 0);
        Kernels.Likelihood(Spec.Likelihood, Spec.ObsLogVar, batch, Spec.InputDim, 0f, DecoderOutput, Input, nllRows.View, Decoder.OutputGradient, xRepeat);
    }

    /// <summary>
    /// The objective's forward pass on the first <paramref name="batch"/> rows of <see cref="Input"/>, leaving the
    /// partial sums of its terms on the device; with <paramref name="backward"/>, ∂loss/∂θ in <see cref="Gradients"/>.
    /// <paramref name="klWeight"/> replaces the objective's KL weight 1 − α (a warm-up's weight of the step).
    /// </summary>
    public void Compute(ObjectiveSpec objective, int batch, bool backward, double? klWeight = null)
    {
        var whole = Shard.Whole(batch);
        ComputeCodes(objective, whole, backward);
        ComputeDivergences(objective, whole, backward, Z, klWeight);
    }

    /// <summary>
    /// A step's first half on <paramref name="shard"/>'s rows (in <see cref="Input"/> from row 0): encoder, sampling,
    /// decoder, likelihood and, with <paramref name="backward"/>, the decoder's backward to ∂L/∂z, the likelihood's
    /// gradient scaled by 1/(global batch). Leaves the shard's codes in <see cref="Z"/> for the other replicas' MMD.
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
            DecoderOutput, Input, nllRows.View, Decoder.OutputGradient);
        if (backward) Decoder.Backward(this, batch);
    }

    /// <summary>
    /// A step's second half: the MMD of every code of the global batch in <paramref name="codes"/> [global, k] (this
    /// shard's rows at its offset; <see cref="Z"/> itself on one device) against the prior draws — this shard's code
    /// rows' terms and gradients, and the prior rows' terms where the shard holds row 0 — then the posterior's and the
    /// encoder's backward. The MMD is computed for the metrics even when its weight is 0; its gradient only when it
    /// counts. The KL's gradient weight is (1 − α)/(global batch) — <paramref name="klWeight"/>/(global batch) where
    /// given, a warm-up's weight of the step; <see cref="ReduceTerms"/> then reduces a global batch's row terms (a replica
    /// group gathers them into its first replica first). With free bits, a launch first takes each dimension's batch mean
    /// of the KL elements and its gradient weight (w, or 0 at or below the threshold), and the posterior's own backward
    /// applies them rather than the MMD's launch. β-TC-VAE's decomposition (<see cref="ObjectiveSpec.TotalCorrelation"/>) runs on
    /// the whole batch on one device: its rows' launch adds ∂/∂z before the MMD's launch reads dz, and its columns' launch adds
    /// the direct ∂/∂μ and ∂/∂log σ² after the posterior's backward wrote the heads' gradient.
    /// </summary>
    public void ComputeDivergences(ObjectiveSpec objective, Shard shard, bool backward, ArrayView<float> codes, double? klWeight = null)
    {
        int batch = shard.Rows, global = shard.Global, m = objective.PriorCount(global), k = Spec.LatentDim;
        bool clamp = objective.FreeBits > 0;
        bool mmd = objective.CanEstimateMmd(global), finishedByMmd = mmd && backward && Posterior.MmdFinishesBackward && !clamp;
        double kl = klWeight ?? objective.KlWeight;
        float klGradScale = (float)(kl / global);
        if (clamp)
        {
            // The means are over the whole batch: a replica holds only its shard's KL elements (free bits are refused with replicas).
            if (batch != global || Posterior is not GaussianPosterior)
                throw new InternalFaultException($"Free bits need the analytic KL of the whole batch on one device; got {batch} of {global} rows, {Posterior.KlTerm}.");
            Kernels.FreeBitsDimensions(new FreeBitsProblem { B = global, Latent = k, Threshold = objective.FreeBits, KlGradScale = klGradScale },
                klTerms.View, klMeans.View, klScales.View);
        }
        var tc = objective.TotalCorrelation?.Problem(global, k, backward);
        if (tc is { } decomposition)
        {
            if (batch != global || Posterior is not GaussianPosterior)
                throw new InternalFaultException($"β-TC-VAE needs the whole batch's Gaussian posteriors on one device; got {batch} of {global} rows, {Posterior.KlTerm}.");
            Kernels.TotalCorrelationRows(decomposition, Z, Heads, tcLse.View, tcRows.View, dz.View);
        }
        if (mmd)
            Kernels.Mmd(new MmdProblem
            {
                B = global, M = m, Latent = k, Kernel = (int)objective.Kernel,
                KernelParameter = (float)objective.KernelParameter, Unbiased = objective.Estimator == MmdEstimator.Unbiased ? 1 : 0,
                GradScale = backward ? (float)objective.MmdWeight : 0f, Backward = finishedByMmd ? 1 : 0, KlGradScale = klGradScale,
                OwnFirst = shard.Offset, OwnRows = batch, SkipPrior = shard.HoldsFirstRow ? 0 : 1,
            }, codes, Prior, Heads, Epsilon, mmdRows.View, dz.View, Encoder.HeadsGradient);
        if (backward)
        {
            var klGradient = clamp ? KlGradient.PerDimensionOf(klScales.View) : KlGradient.Uniform(klGradScale);
            bool headsInputWritten = Posterior.Backward(this, batch, klGradient, finishedByMmd);
            if (tc is { } columns) Kernels.TotalCorrelationColumns(columns, Z, Heads, tcLse.View, Encoder.HeadsGradient);
            Encoder.Backward(Buffers, batch, Input, headsInputWritten);
        }
        lastWeights = new LossWeights
        {
            B = global, KlTerms = global * k, MmdRows = mmd ? global + m : 0, Kl = (float)kl, Mmd = (float)objective.MmdWeight,
            ClampedDims = clamp ? k : 0, FreeBits = objective.FreeBits,
            TcRows = tc is null ? 0 : global, MiWeight = 1f, TcWeight = (float)(objective.TotalCorrelation?.Beta ?? 0), DwklWeight = 1f,
        };
    }

    /// <summary>
    /// The last step's terms into <see cref="Terms"/> on the device (and added into the running totals), with
    /// <see cref="Faults"/> moved into Terms[Faults]: run it after the optimizer step.
    /// </summary>
    public void ReduceTerms()
    {
        var w = lastWeights ?? throw new InternalFaultException("ReduceTerms ran before any Compute.");
        Kernels.LossTerms(w, nllRows.View, klTerms.View, klMeans.View, mmdRows.View, tcRows.View, Faults, Terms, Totals);
    }

    /// <summary>
    /// The objective on the first <paramref name="batch"/> rows of <see cref="Input"/>, with the current noise;
    /// with <paramref name="backward"/>, ∂loss/∂θ in <see cref="Gradients"/>. Waits for the device and reads the terms.
    /// </summary>
    public LossTerms Run(ObjectiveSpec objective, int batch, bool backward, double? klWeight = null)
    {
        Compute(objective, batch, backward, klWeight);
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
        // A checkpoint from before the β-TC-VAE terms holds the first four sums; the others were 0.
        else totals.View.CopyFromCPU([.. sums, .. new double[Math.Max(0, Term.Summed - sums.Length)]]);
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
        foreach (var b in new[] { parameters, gradients, masks, workspace, input, eps, prior, z, dz, allCodes, klScales }) b.Dispose();
        foreach (var b in new[] { nllRows, klTerms, klMeans, mmdRows, tcLse, tcRows, terms, totals }) b.Dispose();
        faults.Dispose();
        Encoder.Dispose();
        Posterior.Dispose();
        Decoder.Dispose();
    }
}
