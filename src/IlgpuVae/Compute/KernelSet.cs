using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// Every kernel of <c>IlgpuVae.Kernels</c> one accelerator runs, loaded once, behind host methods that check
/// their arguments (a kernel cannot throw) and choose the launch size. The choice of backend is this one seam:
/// <see cref="CpuKernels"/> (the CPU accelerator: vector products, a thread per row) or <see cref="GpuKernels"/>
/// (shared-memory tiles and group reductions, for CUDA and OpenCL — and for any accelerator with
/// <c>--kernels portable</c>), picked once when the device opens. A kernel is one declaration, a
/// <see cref="Kernel{TLaunch}"/> field beside the method that launches it: this base class declares the kernels both
/// sets run (one method, launched with the backend's <see cref="Partition"/> for grid-stride launches, or a variant
/// per backend with the same parameters) and each set its own, behind an abstract launch method where the launch
/// differs. Loading, and counting launches, are the field's. The rule for kernel names, which a test holds: an entry
/// point only <see cref="GpuKernels"/> loads ends in Gpu, one only <see cref="CpuKernels"/> loads ends in Cpu, and one
/// both load has neither.
/// Parameter order follows the kernels: problems, sizes and scalars, then inputs, then outputs (a view that is read
/// and written, such as dz for the MMD or C for an accumulating product, sits with the outputs). A product pair
/// lists each product's problem and views together, the first product's before the second's.
/// </summary>
internal abstract partial class KernelSet(ComputeDevice device, KernelLoader load)
{
    public ComputeDevice Device { get; } = device;

    protected Accelerator Accelerator => Device.Accelerator;

    /// <summary>Kernel launches so far on this set: <c>bench</c> reports their count per training step.</summary>
    public long Launches => load.Launches;

    /// <summary>The method of every kernel this set loaded, with whether it is explicitly grouped.</summary>
    public IReadOnlyList<LoadedKernel> Loaded => load.Loaded;

    /// <summary>While set, every launch is waited for and timed (<see cref="KernelProfile"/>); null in training.</summary>
    internal KernelProfile? Profile { get => load.Profile; set => load.Profile = value; }

    /// <summary>How a grid-stride launch over <paramref name="length"/> items deals them out on this backend.</summary>
    public abstract Partition Partition(int length);

    /// <summary>
    /// A grid-stride partition of <paramref name="rows"/> rows, each <paramref name="workPerRow"/> items of work:
    /// whole rows per thread. A GPU deals out rows as <see cref="Partition"/> deals items; the CPU accelerator starts
    /// as many threads as the rows' items would get, since each of its threads costs microseconds to start.
    /// </summary>
    public virtual Partition RowPartition(int rows, int workPerRow) => Partition(rows);

    /// <summary>One launch of a kernel that does nothing, one thread: the fixed cost of a launch (not counted in <see cref="Launches"/>).</summary>
    public void Empty() => empty.Launch(1, 0);

    readonly Kernel<Action<Index1D, int>> empty = new(load, EmptyKernel, counted: false);

    static void EmptyKernel(Index1D index, int unused) { }

    // ---- dense layers (per backend) --------------------------------------------------------------------------

    /// <summary>y[B, out] = act(x[B, in]·W[out, in]ᵀ + b[out]).</summary>
    public void DenseForward(int batch, int inputs, int outputs, Activation activation,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y)
    {
        Require(bias, outputs, nameof(bias));
        ProductPair(Dense.ForwardProblem(batch, inputs, outputs, activation), x, weight, y, bias, default, null, default, default, default, default);
    }

    /// <summary>
    /// A layer's backward in one launch: dW[out, in] = dPreᵀ·x, db[out] = Σ_b dPre, and — unless
    /// <paramref name="dPrevPre"/> is null (the first layer, whose input needs no gradient) —
    /// dPrevPre[B, in] = (dPre·W) ⊙ act_prev'(x), with <paramref name="previousActivation"/> the activation
    /// that produced x (Identity for a model input such as z); with <paramref name="accumulate"/>, (dPrevPre + dPre·W) ⊙ act_prev'(x).
    /// </summary>
    public void DenseBackward(int batch, int inputs, int outputs, Activation previousActivation, bool accumulate,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> weight,
        ArrayView<float> dWeight, ArrayView<float> dBias, ArrayView<float>? dPrevPre)
    {
        Require(dBias, outputs, nameof(dBias));
        ProductPair(Dense.BackwardWeightProblem(batch, inputs, outputs), dPre, x, dWeight, default, dBias,
            dPrevPre is null ? null : Dense.BackwardInputProblem(batch, inputs, outputs, previousActivation, accumulate),
            dPre, weight, dPrevPre ?? default, x);
    }

    /// <summary>
    /// One or two products in one launch (<see cref="Products"/>): C1 = epilogue1(A1·B1) — and, unless
    /// <paramref name="rowSums1"/> is empty, its A's row sums Σₖ A1(m, k) — and, unless <paramref name="second"/> is
    /// null, C2 = epilogue2(A2·B2); each problem names its <see cref="Epilogue"/>, whose extra view is its aux. Every
    /// view is checked against the strides and the epilogue it is read with.
    /// </summary>
    public void ProductPair(GemmProblem first, ArrayView<float> a1, ArrayView<float> b1, ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1,
        GemmProblem? second, ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2)
    {
        RequireOperands(first, a1, b1, c1, aux1);
        if (rowSums1.Length > 0) Require(rowSums1, first.M, nameof(rowSums1));
        if (second is { } p2) RequireOperands(p2, a2, b2, c2, aux2);
        if (Profile is not null) load.NextLabel = ProductName(first, second);
        LaunchPair(first, second ?? default, a1, b1, c1, aux1, rowSums1, a2, b2, c2, aux2);
    }

    static string ProductName(GemmProblem first, GemmProblem? second)
    {
        static string One(GemmProblem p) => $"{p.M}×{p.K}·{p.K}×{p.N} ({(Epilogue)p.Epilogue})";
        return "product " + One(first) + (second is { } p2 ? " + " + One(p2) : "");
    }

    static void RequireOperands(GemmProblem p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> aux)
    {
        if (p.M <= 0 || p.N <= 0 || p.K <= 0) throw new InternalFaultException($"A product of {p.M}×{p.K} by {p.K}×{p.N} is empty.");
        Require(a, p.AOffset + (long)(p.M - 1) * p.ARow + (long)(p.K - 1) * p.ACol + 1, "A");
        Require(b, p.BOffset + (long)(p.K - 1) * p.BRow + (long)(p.N - 1) * p.BCol + 1, "B");
        Require(c, (long)p.M * p.N, "C");
        long auxLength = Epilogues.AuxIndex(p, p.M - 1, p.N - 1) + 1;
        Require(aux, auxLength, "the epilogue's aux");
    }

    /// <summary><paramref name="second"/> has M = 0 when there is no second product.</summary>
    private protected abstract void LaunchPair(GemmProblem first, GemmProblem second, ArrayView<float> a1, ArrayView<float> b1,
        ArrayView<float> c1, ArrayView<float> aux1, ArrayView<float> rowSums1, ArrayView<float> a2, ArrayView<float> b2, ArrayView<float> c2, ArrayView<float> aux2);

    // ---- convolutions' gathers (per backend) -------------------------------------------------------------------

    /// <summary>The column matrix of <paramref name="image"/> for geometry <paramref name="g"/> (<see cref="Convolutions.Im2ColGpu"/>).</summary>
    public void Im2Col(ConvGeometry g, ArrayView<float> image, ArrayView<float> col)
    {
        Require(image, g.ImageSize, nameof(image)); Require(col, (long)g.ColRows * g.ColWidth, nameof(col));
        LaunchIm2Col(g, image, col);
    }

    /// <summary>
    /// image = act(Col2Im(col) + bias) when g.AddBias (aux = bias [C]), else Col2Im(col) ⊙ act'(aux) (aux = the
    /// activation's output, shaped as the image) (<see cref="Convolutions.Col2ImGpu"/>).
    /// </summary>
    public void Col2Im(ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image)
    {
        Require(col, (long)g.ColRows * g.ColWidth, nameof(col)); Require(image, g.ImageSize, nameof(image));
        if (g.AddBias != 0) Require(aux, g.Channels, nameof(aux));
        else if (g.Activation != (int)Activation.Identity) Require(aux, g.ImageSize, nameof(aux));
        LaunchCol2Im(g, col, aux, image);
    }

    /// <summary>sums[c] = Σ over images and pixels of values at channel c (a transposed conv's bias gradient).</summary>
    public void ChannelSums(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums)
    {
        Require(values, g.ImageSize, nameof(values)); Require(sums, g.Channels, nameof(sums));
        LaunchChannelSums(g, values, sums);
    }

    private protected abstract void LaunchIm2Col(ConvGeometry g, ArrayView<float> image, ArrayView<float> col);
    private protected abstract void LaunchCol2Im(ConvGeometry g, ArrayView<float> col, ArrayView<float> aux, ArrayView<float> image);
    private protected abstract void LaunchChannelSums(ConvGeometry g, ArrayView<float> values, ArrayView<float> sums);

    // ---- random numbers ------------------------------------------------------------------------------------

    /// <summary>output[i] = draw i of N(0, 1) under <paramref name="key"/>, for i &lt; <paramref name="length"/>.</summary>
    public void FillNormal(ulong key, int length, ArrayView<float> output)
    {
        Require(output, length, nameof(output));
        if (length == 0) return;
        var s = Partition(length);
        fillNormal.Launch(s.Threads, s, key, output);
    }

    /// <summary>The CPU accelerator's vector draws or the GPUs' scalar kernel: the same bits.</summary>
    readonly Kernel<Action<Index1D, Partition, ulong, ArrayView<float>>> fillNormal = new(load, gpu: CounterRng.FillNormalGpu, cpu: CounterRng.FillNormalCpu);

    /// <summary>output[i] = draw i of U(low, high) under <paramref name="key"/>, for i &lt; <paramref name="length"/>.</summary>
    public void FillUniform(ulong key, float low, float high, int length, ArrayView<float> output)
    {
        Require(output, length, nameof(output));
        if (length == 0) return;
        var s = Partition(length);
        fillUniform.Launch(s.Threads, s, key, low, high, output);
    }

    readonly Kernel<Action<Index1D, Partition, ulong, float, float, ArrayView<float>>> fillUniform = new(load, CounterRng.FillUniform);

    // ---- reparameterization -------------------------------------------------------------------------------

    /// <summary>
    /// z = μ + exp(½ log σ²)·ε and the per-element KL, from heads [B, 2k]; with a <paramref name="noiseKey"/>,
    /// ε is drawn in the same launch (draw <paramref name="counterOffset"/> + i of that key) and stored in <paramref name="eps"/>, else read from it.
    /// With <paramref name="flowKl"/>, z is a flow's z₀ and the KL elements start its estimate (<see cref="ReparameterizeProblem.FlowKl"/>).
    /// </summary>
    public void Reparameterize(int batch, int latent, ulong? noiseKey, bool flowKl,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klTerms, long counterOffset = 0)
    {
        Require(heads, 2L * batch * latent, nameof(heads)); Require(eps, (long)batch * latent, nameof(eps));
        Require(z, (long)batch * latent, nameof(z)); Require(klTerms, (long)batch * latent, nameof(klTerms));
        var p = new ReparameterizeProblem
        {
            Latent = latent, DrawNoise = noiseKey is null ? 0 : 1, Key = noiseKey ?? 0, CounterOffset = counterOffset,
            FlowKl = flowKl ? 1 : 0, Items = Partition(batch * latent),
        };
        reparameterize.Launch(p.Items.Threads, p, heads, eps, z, klTerms);
    }

    /// <summary>The CPU accelerator's vector draws or the GPUs' scalar kernel: the same bits.</summary>
    readonly Kernel<Action<Index1D, ReparameterizeProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>>> reparameterize =
        new(load, gpu: Kernels.Reparameterize.ForwardGpu, cpu: Kernels.Reparameterize.ForwardCpu);

    /// <summary>
    /// dHeads [B, 2k] from dz and the KL term's gradient weight (1 − α)/B (used where no MMD launch does it);
    /// with <paramref name="flowKl"/>, dz is ∂L/∂z₀ of a flow and the KL is its estimate.
    /// </summary>
    public void ReparameterizeBackward(int batch, int latent, float klGradScale, bool flowKl,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        Require(heads, 2L * batch * latent, nameof(heads)); Require(eps, (long)batch * latent, nameof(eps));
        Require(dz, (long)batch * latent, nameof(dz)); Require(dHeads, 2L * batch * latent, nameof(dHeads));
        var s = Partition(batch * latent);
        reparameterizeBackward.Launch(s.Threads, s, latent, klGradScale, flowKl ? 1 : 0, heads, eps, dz, dHeads);
    }

    readonly Kernel<Action<Index1D, Partition, int, float, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> reparameterizeBackward =
        new(load, Kernels.Reparameterize.Backward);

    /// <summary>
    /// The Gaussian's dHeads [B, 2k] from dz with the KL term's gradient weight per dimension, <paramref name="klGradScales"/> [k]
    /// (free bits: <see cref="FreeBitsDimensions"/> writes them); a grid-stride launch on either backend.
    /// </summary>
    public void ReparameterizeBackwardPerDimension(int batch, int latent, ArrayView<float> klGradScales,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        Require(klGradScales, latent, nameof(klGradScales));
        Require(heads, 2L * batch * latent, nameof(heads)); Require(eps, (long)batch * latent, nameof(eps));
        Require(dz, (long)batch * latent, nameof(dz)); Require(dHeads, 2L * batch * latent, nameof(dHeads));
        var s = Partition(batch * latent);
        reparameterizeBackwardPerDimension.Launch(s.Threads, s, latent, klGradScales, heads, eps, dz, dHeads);
    }

    readonly Kernel<Action<Index1D, Partition, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> reparameterizeBackwardPerDimension =
        new(load, Kernels.Reparameterize.BackwardPerDimension);

    /// <summary>
    /// Free bits' statistics of a batch's KL elements [B, k]: per dimension its batch mean into <paramref name="means"/> and its
    /// gradient scale — p.KlGradScale above p.Threshold, else 0 — into <paramref name="scales"/> (<see cref="Kernels.FreeBits"/>).
    /// </summary>
    public void FreeBitsDimensions(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales)
    {
        if (p.B <= 0 || p.Latent <= 0) throw new InternalFaultException($"Free bits over {p.B} rows of {p.Latent} dimensions.");
        Require(klTerms, (long)p.B * p.Latent, nameof(klTerms)); Require(means, p.Latent, nameof(means)); Require(scales, p.Latent, nameof(scales));
        LaunchFreeBits(p, klTerms, means, scales);
    }

    private protected abstract void LaunchFreeBits(FreeBitsProblem p, ArrayView<double> klTerms, ArrayView<double> means, ArrayView<float> scales);

    // ---- likelihood, divergences, loss (per backend) ------------------------------------------------------

    /// <summary>
    /// Per-row −log p(x|z) and, unless gradScale is 0, its gradient for the decoder output; output row b is
    /// compared with x's row b / <paramref name="xRepeat"/>.
    /// </summary>
    public void Likelihood(Likelihood kind, float obsLogVar, int batch, int dim, float gradScale,
        ArrayView<float> output, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dOutput, int xRepeat = 1)
    {
        if (xRepeat < 1) throw new ArgumentOutOfRangeException(nameof(xRepeat), xRepeat, "x's rows repeat at least once.");
        Require(output, (long)batch * dim, nameof(output)); Require(x, (long)(batch + xRepeat - 1) / xRepeat * dim, nameof(x));
        Require(nllRows, batch, nameof(nllRows));
        if (gradScale != 0f) Require(dOutput, (long)batch * dim, nameof(dOutput));
        LaunchLikelihood(new LikelihoodProblem
        {
            Rows = batch, Dim = dim, Bernoulli = kind == Kernels.Likelihood.Bernoulli ? 1 : 0, LogVar = obsLogVar, GradScale = gradScale,
            XRepeat = xRepeat,
        }, output, x, nllRows, dOutput);
    }

    private protected abstract void LaunchLikelihood(LikelihoodProblem p, ArrayView<float> output, ArrayView<float> x,
        ArrayView<double> nllRows, ArrayView<float> dOutput);

    /// <summary>
    /// Row terms of MMD²(z, prior) (B + M of them, summing to MMD²); unless p.GradScale is 0, dz += ∂(w·MMD²)/∂z;
    /// with p.Backward, each code row's complete dz then becomes its dHeads (the reparameterization's backward). A
    /// data-parallel replica computes only its own code rows (<see cref="MmdProblem.OwnFirst"/>), against all B codes.
    /// </summary>
    public void Mmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads, ArrayView<float> eps,
        ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        if (p.OwnRows == 0) (p.OwnFirst, p.OwnRows) = (0, p.B);
        if (p.OwnFirst < 0 || p.OwnRows < 0 || p.OwnFirst + p.OwnRows > p.B)
            throw new InternalFaultException($"The MMD was asked for code rows {p.OwnFirst} to {p.OwnFirst + p.OwnRows} of {p.B}.");
        Require(z, (long)p.B * p.Latent, nameof(z)); Require(prior, (long)p.M * p.Latent, nameof(prior));
        Require(rowTerms, p.B + p.M, nameof(rowTerms));
        long own = (long)p.OwnRows * p.Latent;
        if (p.GradScale != 0f || p.Backward != 0) Require(dz, own, nameof(dz));
        if (p.Backward != 0)
        {
            Require(heads, 2 * own, nameof(heads)); Require(eps, own, nameof(eps));
            Require(dHeads, 2 * own, nameof(dHeads));
        }
        if (!Divergences.CanEstimate(p.Unbiased != 0, p.B, p.M))
            throw new InternalFaultException($"The unbiased MMD was launched with {p.B} codes and {p.M} prior draws; it needs {Divergences.UnbiasedMinimum} of each.");
        LaunchMmd(p, z, prior, heads, eps, rowTerms, dz, dHeads);
    }

    private protected abstract void LaunchMmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads,
        ArrayView<float> eps, ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads);

    /// <summary>
    /// The loss terms from the partials into terms[0..<see cref="Term.Count"/>), all but the fault count also added into
    /// totals; terms[Faults] takes faults[0], which is reset. Under free bits (w.ClampedDims &gt; 0) the loss's KL term
    /// is the clamped sum of <paramref name="klMeans"/> (<see cref="FreeBitsDimensions"/>'s), which is read only then;
    /// <paramref name="tcRows"/> [w.TcRows, 3] (β-TC-VAE's row terms, <see cref="TotalCorrelationRows"/>) likewise.
    /// </summary>
    public void LossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans, ArrayView<double> mmdRows,
        ArrayView<double> tcRows, ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals)
    {
        Require(nllRows, w.B, nameof(nllRows)); Require(klTerms, w.KlTerms, nameof(klTerms)); Require(mmdRows, w.MmdRows, nameof(mmdRows));
        Require(klMeans, w.ClampedDims, nameof(klMeans)); Require(tcRows, (long)w.TcRows * TotalCorrelation.TermsPerRow, nameof(tcRows));
        Require(faults, 1, nameof(faults)); Require(terms, Term.Count, nameof(terms)); Require(totals, Term.Summed, nameof(totals));
        LaunchLossTerms(w, nllRows, klTerms, klMeans, mmdRows, tcRows, faults, terms, totals);
    }

    private protected abstract void LaunchLossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans,
        ArrayView<double> mmdRows, ArrayView<double> tcRows, ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals);

    // ---- optimizers and batches ---------------------------------------------------------------------

    /// <summary>One Adam/AdamW step; the non-finite gradients it sees are added into faults[0].</summary>
    public void Adam(AdamStep s, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<int> faults)
    {
        int length = (int)parameters.Length;
        Require(gradients, length, nameof(gradients)); Require(m, length, nameof(m)); Require(v, length, nameof(v));
        Require(faults, 1, nameof(faults));
        s.Items = Partition(length);
        adam.Launch(s.Items.Threads, s, parameters, gradients, m, v, faults);
    }

    /// <summary>The CPU accelerator's vector code or the GPUs' scalar kernel: the same bits.</summary>
    readonly Kernel<Action<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>> adam =
        new(load, gpu: Optimizers.AdamGpu, cpu: Optimizers.AdamCpu);

    /// <summary>One SGD-with-momentum step; the non-finite gradients it sees are added into faults[0].</summary>
    public void SgdMomentum(SgdStep s, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity, ArrayView<int> faults)
    {
        int length = (int)parameters.Length;
        Require(gradients, length, nameof(gradients)); Require(velocity, length, nameof(velocity));
        Require(faults, 1, nameof(faults));
        s.Items = Partition(length);
        sgd.Launch(s.Items.Threads, s, parameters, gradients, velocity, faults);
    }

    readonly Kernel<Action<Index1D, SgdStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>> sgd = new(load, Optimizers.SgdMomentum);

    /// <summary>batch[r] = data[order[start + r / repeat]] (optionally binarized), for <c>g.Rows</c> rows.</summary>
    public void Gather(GatherProblem g, ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        if (g.Repeat <= 0) g.Repeat = 1;
        Require(order, g.Start + (g.Rows + g.Repeat - 1) / g.Repeat, nameof(order)); Require(batch, (long)g.Rows * g.Dim, nameof(batch));
        g.Items = Partition(g.Rows * g.Dim);
        gather.Launch(g.Items.Threads, g, data, order, batch);
    }

    /// <summary>The CPU accelerator's row copies or the GPUs' element-wise kernel.</summary>
    readonly Kernel<Action<Index1D, GatherProblem, ArrayView<float>, ArrayView<int>, ArrayView<float>>> gather = new(load, gpu: Batches.GatherGpu, cpu: Batches.GatherCpu);

    // ---- evaluation estimators ----------------------------------------------------------------------------

    /// <summary>z [Images·Samples, k] drawn from the posteriors in heads, and log p(z) − log q(z|x) per row.</summary>
    public void ImportanceSamples(ImportanceProblem p, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        int rows = CheckRows(p);
        Require(heads, 2L * p.Images * p.Latent, nameof(heads)); Require(z, (long)rows * p.Latent, nameof(z));
        Require(logRatio, rows, nameof(logRatio));
        p.Rows = RowPartition(rows, p.Latent);
        importanceSamples.Launch(p.Rows.Threads, p, heads, z, logRatio);
    }

    /// <summary>The CPU accelerator's vector draws or the GPUs' scalar kernel: the same bits.</summary>
    readonly Kernel<Action<Index1D, ImportanceProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>>> importanceSamples =
        new(load, gpu: Estimators.ImportanceSamplesGpu, cpu: Estimators.ImportanceSamplesCpu);

    /// <summary>logW[b, FirstSample + s] = −nll + log p(z) − log q(z|x) for the chunk's rows.</summary>
    public void ImportanceWeights(ImportanceProblem p, ArrayView<double> nllRows, ArrayView<double> logRatio, ArrayView<double> logWeights)
    {
        int rows = CheckRows(p);
        Require(nllRows, rows, nameof(nllRows)); Require(logRatio, rows, nameof(logRatio));
        Require(logWeights, (long)p.Images * p.TotalSamples, nameof(logWeights));
        p.Rows = RowPartition(rows, 1);
        importanceWeights.Launch(p.Rows.Threads, p, nllRows, logRatio, logWeights);
    }

    readonly Kernel<Action<Index1D, ImportanceProblem, ArrayView<double>, ArrayView<double>, ArrayView<double>>> importanceWeights = new(load, Estimators.ImportanceWeights);

    static int CheckRows(ImportanceProblem p)
    {
        if (p.Samples <= 0 || p.RowStride < p.Samples || p.FirstSample + p.Samples > p.TotalSamples)
            throw new InternalFaultException($"A chunk of {p.Samples} draws from {p.FirstSample} of {p.TotalSamples}, {p.RowStride} rows per image, does not fit.");
        return p.Images * p.RowStride;
    }

    /// <summary>
    /// Per image: log-mean-exp of its K log-weights (the IWAE bound) and their mean (the ELBO); where
    /// <paramref name="variance"/> is given, the delta method's variance of the first (Σ w̃² − 1/K).
    /// </summary>
    public void LogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo,
        ArrayView<double> variance = default)
    {
        Require(logWeights, (long)images * samples, nameof(logWeights)); Require(iwae, images, nameof(iwae)); Require(elbo, images, nameof(elbo));
        if (variance.Length > 0) Require(variance, images, nameof(variance));
        LaunchLogMeanExp(images, samples, logWeights, iwae, elbo, variance);
    }

    private protected abstract void LaunchLogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo,
        ArrayView<double> variance);

    /// <summary>Each code's term of the mutual information against the mixture of all <paramref name="count"/> posteriors.</summary>
    public void MutualInformationTerms(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms)
    {
        Require(heads, 2L * count * latent, nameof(heads)); Require(z, (long)count * latent, nameof(z)); Require(terms, count, nameof(terms));
        LaunchMutualInformation(count, latent, heads, z, terms);
    }

    private protected abstract void LaunchMutualInformation(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms);

    /// <summary>
    /// Per latent dimension: the variance of the posteriors' means and the mean KL element (<see cref="DimensionProblem"/>):
    /// for Gaussian posteriors, μ from heads (stride 2k, one draw) and their analytic KL elements.
    /// </summary>
    public void DimensionStatistics(DimensionProblem p, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        if (p.Count == 0 || p.Draws < 1 || p.Stride < p.Latent) throw new InternalFaultException($"Posterior statistics of {p.Count} posteriors, {p.Draws} draws, stride {p.Stride}.");
        Require(sums, (long)(p.Count - 1) * p.Stride + p.Latent, nameof(sums)); Require(kl, (long)p.Count * p.Latent, nameof(kl));
        if (p.Draws > 1) Require(squares, (long)p.Count * p.Latent, nameof(squares));
        Require(muVariance, p.Latent, nameof(muVariance)); Require(klMean, p.Latent, nameof(klMean));
        LaunchDimensionStatistics(p, sums, squares, kl, muVariance, klMean);
    }

    private protected abstract void LaunchDimensionStatistics(DimensionProblem p, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean);

    /// <summary>A launch check that failed is a bug of the caller, never the user's input.</summary>
    static void Require<T>(ArrayView<T> view, long length, string name) where T : unmanaged
    {
        if (view.Length < length)
            throw new InternalFaultException($"Buffer '{name}' holds {view.Length} elements; the launch needs {length}.");
    }
}

/// <summary>A kernel a <see cref="KernelSet"/> loaded: its method, and whether it takes explicit groups.</summary>
internal sealed record LoadedKernel(System.Reflection.MethodInfo Method, bool ExplicitlyGrouped)
{
    public string Name => $"{Method.DeclaringType?.Name}.{Method.Name}";
}
