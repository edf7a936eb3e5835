using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

// The autoregressive models' kernels: masked layers and conditional contexts (on the product kernel), flow steps,
// masks, sampling, and the evaluation of flow posteriors. The masked convs are in KernelSet.MaskedConvolutions.cs.
internal abstract partial class KernelSet
{
    /// <summary>
    /// A masked layer's forward, y = act(x·Wᵀ + c·Vᵀ + b) (W's masked entries are zero already): the context's
    /// product with the bias into <paramref name="sum"/> [B, out], then x's, added before the activation.
    /// </summary>
    public void MaskedForward(int batch, int inputs, int outputs, int contextWidth, Activation activation,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias,
        ArrayView<float> sum, ArrayView<float> y)
    {
        ContextBias(batch, contextWidth, outputs, context, contextWeight, bias, sum);
        ProductPair(Dense.ForwardProblem(batch, inputs, outputs, activation) with { Epilogue = (int)Epilogue.AddActivation },
            x, weight, y, sum, default, null, default, default, default, default);
    }

    /// <summary>
    /// A masked layer's backward in two launches: dW = (dPreᵀ·x) ⊙ M and db = Σ_b dPre with, unless
    /// <paramref name="dInputPre"/> is null, the input's gradient as <see cref="DenseBackward"/>'s; then
    /// dV = dPreᵀ·c with ∂L/∂c = dPre·V, written or (<paramref name="accumulateContext"/>) added.
    /// </summary>
    public void MaskedBackward(int batch, int inputs, int outputs, int contextWidth, Activation previousActivation,
        bool accumulateInput, bool accumulateContext,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> mask, ArrayView<float> context, ArrayView<float> contextWeight,
        ArrayView<float> dWeight, ArrayView<float> dBias, ArrayView<float>? dInputPre, ArrayView<float> dContextWeight, ArrayView<float> dContext)
    {
        Require(dBias, outputs, nameof(dBias));
        ProductPair(Dense.BackwardWeightProblem(batch, inputs, outputs) with { Epilogue = (int)Epilogue.Masked }, dPre, x, dWeight, mask, dBias,
            dInputPre is null ? null : Dense.BackwardInputProblem(batch, inputs, outputs, previousActivation, accumulateInput),
            dPre, weight, dInputPre ?? default, x);
        ContextBackward(batch, contextWidth, outputs, accumulateContext, dPre, context, contextWeight, dContextWeight, default, dContext);
    }

    /// <summary>
    /// sum[B, out] = c·Vᵀ + b: a conditional layer's context term with its bias, which the layer's main product
    /// then adds in its epilogue (per row for a masked layer, per image for a masked conv).
    /// </summary>
    public void ContextBias(int batch, int contextWidth, int outputs,
        ArrayView<float> context, ArrayView<float> contextWeight, ArrayView<float> bias, ArrayView<float> sum)
    {
        Require(bias, outputs, nameof(bias));
        ProductPair(Dense.ForwardProblem(batch, contextWidth, outputs, Activation.Identity), context, contextWeight, sum, bias, default,
            null, default, default, default, default);
    }

    /// <summary>
    /// The context term's backward in one launch, from its gradient g [B, out] (a masked layer's dPre; a masked conv's
    /// dPre summed over each image's pixels): dV = gᵀ·c, ∂L/∂c = g·V written or (<paramref name="accumulateContext"/>)
    /// added, and, unless <paramref name="dBias"/> is empty, db = Σ_b g (the bias sits beside V·c).
    /// </summary>
    public void ContextBackward(int batch, int contextWidth, int outputs, bool accumulateContext,
        ArrayView<float> g, ArrayView<float> context, ArrayView<float> contextWeight,
        ArrayView<float> dContextWeight, ArrayView<float> dBias, ArrayView<float> dContext) =>
        ProductPair(Dense.BackwardWeightProblem(batch, contextWidth, outputs), g, context, dContextWeight, default, dBias,
            Dense.BackwardInputProblem(batch, contextWidth, outputs, Activation.Identity, accumulateContext), g, contextWeight, dContext, default);

    /// <summary>A flow step's z_{t+1} from z_t and its MADE's [m | s], adding its share of the KL estimate (<see cref="Flows"/>).</summary>
    public void FlowStep(int batch, int latent, bool last,
        ArrayView<float> z, ArrayView<float> ms, ArrayView<float> next, ArrayView<double> klTerms)
    {
        Require(z, (long)batch * latent, nameof(z)); Require(ms, 2L * batch * latent, nameof(ms));
        Require(next, (long)batch * latent, nameof(next)); Require(klTerms, (long)batch * latent, nameof(klTerms));
        var p = new FlowStepProblem { Latent = latent, Last = last ? 1 : 0, Items = Partition(batch * latent) };
        flowStep.Launch(p.Items.Threads, p, z, ms, next, klTerms);
    }

    readonly Kernel<Action<Index1D, FlowStepProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>>> flowStep =
        new(load, Flows.StepForward);

    /// <summary>A flow step's backward: d[m | s] for its MADE and the direct part of ∂L/∂z_t (<see cref="Flows.StepBackward"/>).</summary>
    public void FlowStepBackward(int batch, int latent, bool last, float klGradScale,
        ArrayView<float> z, ArrayView<float> ms, ArrayView<float> next, ArrayView<float> dNext, ArrayView<float> dMs, ArrayView<float> dz)
    {
        Require(z, (long)batch * latent, nameof(z)); Require(ms, 2L * batch * latent, nameof(ms));
        Require(next, (long)batch * latent, nameof(next)); Require(dNext, (long)batch * latent, nameof(dNext));
        Require(dMs, 2L * batch * latent, nameof(dMs)); Require(dz, (long)batch * latent, nameof(dz));
        var p = new FlowStepProblem { Latent = latent, Last = last ? 1 : 0, KlGradScale = klGradScale, Items = Partition(batch * latent) };
        flowStepBackward.Launch(p.Items.Threads, p, z, ms, next, dNext, dMs, dz);
    }

    readonly Kernel<Action<Index1D, FlowStepProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>> flowStepBackward =
        new(load, Flows.StepBackward);

    /// <summary>values[i] = +0 where mask[i] is 0, for the first <paramref name="length"/> elements.</summary>
    public void ApplyMask(int length, ArrayView<float> mask, ArrayView<float> values)
    {
        Require(mask, length, nameof(mask)); Require(values, length, nameof(values));
        var items = Partition(length);
        applyMask.Launch(items.Threads, items, mask, values);
    }

    readonly Kernel<Action<Index1D, Partition, ArrayView<float>, ArrayView<float>>> applyMask = new(load, Flows.ApplyMask);

    /// <summary>Pixel <paramref name="pixel"/> of x [B, d] drawn from a MADE decoder's output (<see cref="Flows.SamplePixel"/>).</summary>
    public void SamplePixel(int batch, int dim, int pixel, Kernels.Likelihood likelihood, ulong key, ArrayView<float> output, ArrayView<float> x)
    {
        Require(output, (long)batch * dim, nameof(output)); Require(x, (long)batch * dim, nameof(x));
        if (pixel < 0 || pixel >= dim) throw new InternalFaultException($"Pixel {pixel} of {dim} was asked to be sampled.");
        var rows = Partition(batch);
        samplePixel.Launch(rows.Threads, rows, dim, pixel, likelihood == Kernels.Likelihood.Bernoulli ? 1 : 0, key, output, x);
    }

    readonly Kernel<Action<Index1D, Partition, int, int, int, ulong, ArrayView<float>, ArrayView<float>>> samplePixel = new(load, Flows.SamplePixel);

    // ---- evaluating flow posteriors ------------------------------------------------------------------------

    /// <summary>Draw <paramref name="draw"/> of [rows, k] codes and KL elements added into running sums (<see cref="Estimators.AccumulateDraws"/>).</summary>
    public void AccumulateDraws(int length, int draw, ArrayView<float> z, ArrayView<double> klTerms,
        ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl)
    {
        Require(z, length, nameof(z)); Require(klTerms, length, nameof(klTerms));
        Require(sums, length, nameof(sums)); Require(squares, length, nameof(squares)); Require(kl, length, nameof(kl));
        var items = Partition(length);
        accumulateDraws.Launch(items.Threads, items, draw, z, klTerms, sums, squares, kl);
    }

    readonly Kernel<Action<Index1D, Partition, int, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<double>>> accumulateDraws =
        new(load, Estimators.AccumulateDraws);

    /// <summary>log p(z) − log q(z|x) per row from a flow posterior's KL elements (<see cref="Estimators.FlowLogRatio"/>).</summary>
    public void FlowLogRatio(int rows, int latent, ArrayView<double> klTerms, ArrayView<double> logRatio)
    {
        Require(klTerms, (long)rows * latent, nameof(klTerms)); Require(logRatio, rows, nameof(logRatio));
        flowLogRatio.Launch(rows, latent, klTerms, logRatio);
    }

    readonly Kernel<Action<Index1D, int, ArrayView<double>, ArrayView<double>>> flowLogRatio = new(load, Estimators.FlowLogRatio);

    /// <summary>Rows of (code, image) pairs from a table (<see cref="FlowInversion.PairRows"/>).</summary>
    public void PairRows(int firstPair, int rows, int n, int width, bool cycle, ArrayView<float> table, ArrayView<float> output)
    {
        Require(table, (long)n * width, nameof(table)); Require(output, (long)rows * width, nameof(output));
        var items = Partition(rows * width);
        pairRows.Launch(items.Threads, items, firstPair, n, width, cycle ? 1 : 0, table, output);
    }

    readonly Kernel<Action<Index1D, Partition, int, int, int, int, ArrayView<float>, ArrayView<float>>> pairRows = new(load, FlowInversion.PairRows);

    /// <summary>One pass of a flow step's inversion (<see cref="FlowInversion.Pass"/>).</summary>
    public void InversionPass(int rows, int latent, ArrayView<float> next, ArrayView<float> ms, ArrayView<float> z)
    {
        Require(next, (long)rows * latent, nameof(next)); Require(ms, 2L * rows * latent, nameof(ms)); Require(z, (long)rows * latent, nameof(z));
        var items = Partition(rows * latent);
        inversionPass.Launch(items.Threads, items, latent, next, ms, z);
    }

    readonly Kernel<Action<Index1D, Partition, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>> inversionPass = new(load, FlowInversion.Pass);

    /// <summary>logQ[r] −= Σ log σ of an inverted step; <paramref name="first"/> starts the sums.</summary>
    public void AddLogDeterminant(int rows, int latent, bool first, ArrayView<float> ms, ArrayView<double> logQ)
    {
        Require(ms, 2L * rows * latent, nameof(ms)); Require(logQ, rows, nameof(logQ));
        addLogDeterminant.Launch(rows, latent, first ? 1 : 0, ms, logQ);
    }

    readonly Kernel<Action<Index1D, int, int, ArrayView<float>, ArrayView<double>>> addLogDeterminant = new(load, FlowInversion.AddLogDeterminant);

    /// <summary>logQ[r] += log N(z₀; μ, σ²) with the row's own heads [rows, 2k].</summary>
    public void AddGaussian(int rows, int latent, ArrayView<float> z0, ArrayView<float> heads, ArrayView<double> logQ)
    {
        Require(z0, (long)rows * latent, nameof(z0)); Require(heads, 2L * rows * latent, nameof(heads)); Require(logQ, rows, nameof(logQ));
        addGaussian.Launch(rows, latent, z0, heads, logQ);
    }

    readonly Kernel<Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>> addGaussian = new(load, FlowInversion.AddGaussian);
}
