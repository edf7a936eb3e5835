using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// An inverse autoregressive flow after the Gaussian (Kingma et al., 2016): z₀ = μ + σ ⊙ ε, then per step
/// z_{t+1} = σ_t ⊙ z_t + (1 − σ_t) ⊙ m_t with [m_t | s_t] from a MADE over z_t and a context c that a dense layer
/// computes from what the heads read, σ_t = sigmoid(s_t), the order of z reversed between steps
/// (<see cref="Kernels.Flows"/>). log q(z|x) is exact; the KL term is the single-sample estimate log q(z|x) − log p(z).
/// Parameters: encoder.context.* [C, width]; per step t flow.{t}.made.{l}.weight (masked), .cond.weight, .bias, then
/// m and s as one masked layer of 2k: flow.{t}.m.weight, flow.{t}.s.weight, flow.{t}.m.cond.weight,
/// flow.{t}.s.cond.weight, flow.{t}.m.bias, flow.{t}.s.bias (s's bias starts at 1, so σ starts near 0.73).
/// Its density at another image's code needs that image's flow inverted (<see cref="FlowMutualInformation"/>); its
/// means, Monte Carlo draws.
/// </summary>
internal sealed class IafPosterior : IPosterior
{
    readonly int latent;
    readonly FlowSpec flow;
    readonly Encoder encoder;
    readonly DenseLayer context;
    readonly LayerStack[] steps;
    // The context [B, C] and its gradient; z_t and ∂L/∂z_t [B, k] for t < T (z_T is the model's z).
    MemoryBuffer1D<float, Stride1D.Dense>? contextOut, contextGrad;
    MemoryBuffer1D<float, Stride1D.Dense>[] stepZ = [], stepDz = [];

    public IafPosterior(ModelSpec spec, FlowSpec flow, ParameterLayout layout, Encoder encoder)
    {
        (latent, this.flow, this.encoder) = (spec.LatentDim, flow, encoder);
        context = layout.Dense("encoder.context", encoder.HeadsInputWidth, flow.ContextDim, Activation.Identity, readsMap: encoder.HeadsMap);
        steps = Enumerable.Range(0, flow.Steps).Select(t => new LayerStack(Step(t, layout, spec.Activation, spec.MadeDegrees))).ToArray();
    }

    /// <summary>
    /// Step <paramref name="t"/>'s MADE over the k dims of z (their order reversed in odd steps) with the context, whose
    /// last layer is m and s side by side ([2k] outputs, rows m then s, sharing the output mask); its hidden units'
    /// degrees by the model's rule, as for a MADE decoder.
    /// </summary>
    IReadOnlyList<Layer> Step(int t, ParameterLayout layout, Activation act, MadeDegrees degrees)
    {
        int k = latent;
        var masks = Made.Masks(Made.InputDegrees(k, reversed: t % 2 == 1), flow.Hidden, degrees, outputBlocks: 2);
        var layers = new List<Layer>();
        int width = k;
        for (int l = 0; l < flow.Hidden.Count; l++)
        {
            layers.Add(layout.Masked($"flow.{t}.made.{l}", width, flow.Hidden[l], flow.ContextDim, act, masks[l]));
            width = flow.Hidden[l];
        }
        var outMask = masks[^1];
        int half = k * width;
        int w = layout.Add($"flow.{t}.m.weight", [k, width], width, mask: outMask[..half]);
        layout.Add($"flow.{t}.s.weight", [k, width], width, mask: outMask[half..]);
        int v = layout.Add($"flow.{t}.m.cond.weight", [k, flow.ContextDim], flow.ContextDim);
        layout.Add($"flow.{t}.s.cond.weight", [k, flow.ContextDim], flow.ContextDim);
        int b = layout.Add($"flow.{t}.m.bias", [k], width);
        // PyTorch's IAF starts σ = sigmoid(s) near 0.73 so the first steps stay close to z₀ (Kingma et al., 2016).
        layout.Add($"flow.{t}.s.bias", [k], width, constant: 1f);
        layers.Add(new MaskedLayer(width, 2 * k, flow.ContextDim, Activation.Identity, w, v, b));
        return layers;
    }

    public IReadOnlyList<Layer> Layers => [context, .. steps.SelectMany(s => s.Layers)];

    /// <summary>What config.json calls its KL term.</summary>
    public const string KlTermName = "single-sample estimate log q(z|x) - log p(z)";

    public string KlTerm => KlTermName;

    public int ContextWidth => flow.ContextDim;

    /// <summary>The flow's steps, each a MADE whose last layer outputs [m | s].</summary>
    public IReadOnlyList<LayerStack> Steps => steps;

    public void Allocate(DeviceMemory memory, int maxBatch)
    {
        contextOut = memory.Floats((long)maxBatch * flow.ContextDim);
        contextGrad = memory.Floats((long)maxBatch * flow.ContextDim);
        stepZ = steps.Select(_ => memory.Floats((long)maxBatch * latent)).ToArray();
        stepDz = steps.Select(_ => memory.Floats((long)maxBatch * latent)).ToArray();
        foreach (var s in steps) s.Allocate(memory, maxBatch);
    }

    public ArrayView<float> Context => contextOut!.View;

    public ArrayView<float> Z0(VaeModel model) => stepZ[0].View;

    public void Sample(VaeModel model, int batch, ulong? noiseKey, long counterOffset)
    {
        context.Forward(model.Buffers, batch, encoder.HeadsInput(model.Input), Context);
        SampleGiven(model, batch, noiseKey, counterOffset);
    }

    public void SampleGiven(VaeModel model, int batch, ulong? noiseKey, long counterOffset)
    {
        var kernels = model.Kernels;
        kernels.Reparameterize(batch, latent, noiseKey, flowKl: true, model.Heads, model.Epsilon, stepZ[0].View, model.KlTerms, counterOffset);
        var buffers = model.Buffers with { Context = Context };
        for (int t = 0; t < steps.Length; t++)
        {
            steps[t].Forward(buffers, batch, stepZ[t].View);
            bool last = t == steps.Length - 1;
            kernels.FlowStep(batch, latent, last, stepZ[t].View, steps[t].Output, last ? model.Z : stepZ[t + 1].View, model.KlTerms);
        }
    }

    public bool MmdFinishesBackward => false;

    /// <summary>
    /// From ∂L/∂z_T back through the steps to ∂L/∂z₀, then the heads' gradient: each step's own element-wise backward
    /// writes the direct part of ∂L/∂z_t, and its MADE adds its path there and into the context's gradient, which every
    /// layer of every step reads; then the context layer's backward writes the heads' input gradient.
    /// </summary>
    public bool Backward(VaeModel model, int batch, KlGradient kl, bool finishedByMmd)
    {
        // The flow's KL term is one estimate for the whole code: there is no per-dimension weight to give it (free bits are refused with it).
        if (kl.IsPerDimension) throw new InternalFaultException("A flow posterior was given a KL weight per dimension.");
        BackwardToVariational(model, batch, kl.Scale);
        context.Backward(model.Buffers, batch, encoder.HeadsInput(model.Input), contextGrad!.View, Activation.Identity, encoder.HeadsInputGradient);
        return true;
    }

    public ArrayView<float> ContextGradient => contextGrad!.View;

    /// <summary>Through the steps to the heads' gradient and the context's (<see cref="Backward"/> without the context layer's).</summary>
    public void BackwardToVariational(VaeModel model, int batch, float klGradScale)
    {
        var kernels = model.Kernels;
        var buffers = model.Buffers with { Context = Context, ContextGradient = contextGrad!.View };
        bool contextWritten = false;
        for (int t = steps.Length - 1; t >= 0; t--)
        {
            bool last = t == steps.Length - 1;
            kernels.FlowStepBackward(batch, latent, last, klGradScale, stepZ[t].View, steps[t].Output, last ? model.Z : stepZ[t + 1].View,
                last ? model.Dz : stepDz[t + 1].View, steps[t].OutputGradient, stepDz[t].View);
            contextWritten = steps[t].Backward(buffers, batch, stepZ[t].View, stepDz[t].View, contextWritten, accumulateInputOf: 0);
        }
        kernels.ReparameterizeBackward(batch, latent, klGradScale, flowKl: true, model.Heads, model.Epsilon, stepDz[0].View, encoder.HeadsGradient);
    }

    public bool EncodesEachDraw => true;

    /// <summary>Each row encoded with its own ε, weighed by the flow's exact log q (<see cref="KernelSet.FlowLogRatio"/>).</summary>
    public void ImportanceDraws(VaeModel model, ImportanceProblem p, ArrayView<double> logRatio)
    {
        int rows = p.Images * p.RowStride;
        model.DrawNoise(p.Key, (ulong)p.FirstImage * (ulong)p.TotalSamples + (ulong)p.FirstSample, rows, 0);
        model.Encode(rows);
        model.Kernels.FlowLogRatio(rows, latent, model.KlTerms, logRatio);
    }

    /// <summary>
    /// The means E[z|x] have no closed form: codes and KL elements summed over <see cref="PosteriorEvaluation.FlowDraws"/>
    /// draws per image, with the codes' squares, so the draws' noise can be taken out of the means' variance.
    /// </summary>
    public void DimensionStatistics(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        int n = evaluation.Count, k = latent, draws = evaluation.FlowDraws;
        var memory = new DeviceMemory(model.Device, $"the flow's means over {n} images");
        using var sums = memory.Floats((long)n * k);
        using var squares = memory.Floats((long)n * k);
        ulong key = CounterRng.Key(evaluation.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationMeans);
        for (int start = 0, b = 0; start < n; start += evaluation.Pass, b++)
        {
            int rows = Math.Min(evaluation.Pass, n - start);
            long at = (long)start * k, length = (long)rows * k;
            evaluation.Load(start, rows);
            for (int draw = 0; draw < draws; draw++)
            {
                model.DrawNoise(key, (ulong)b * (ulong)draws + (ulong)draw, rows, 0);
                model.Encode(rows);
                model.Kernels.AccumulateDraws((int)length, draw, model.Z, model.KlTerms,
                    sums.View.SubView(at, length), squares.View.SubView(at, length), kl.SubView(at, length));
            }
        }
        model.Kernels.DimensionStatistics(new DimensionProblem { Count = n, Latent = k, Stride = k, Draws = draws },
            sums.View, squares.View, kl, muVariance, klMean);
    }

    public (double Mi, int Images) MutualInformation(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads,
        ArrayView<float> contexts, ArrayView<float> codes)
    {
        int m = Math.Min(evaluation.Count, evaluation.MiLimit);
        return (FlowMutualInformation.Estimate(model, this, m, heads, contexts, codes), m);
    }

    /// <summary>None: a flow mixes the dimensions, so q(z_d|x) has no closed form for the dimension-wise terms.</summary>
    public KlDecomposition? KlDecomposition(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<float> codes) => null;

    public string? OnnxEncoderOutputs(OnnxGraph graph, OnnxParameters parameters, OnnxValue headsInput)
    {
        var value = context.Onnx(graph, parameters, headsInput, null);
        OnnxGraph.Expect([graph.Node("Identity", [value.Name], "context")], "context");
        graph.Output("context", "N", flow.ContextDim);
        return $"the context of its IAF ({FlowFile} takes all three)";
    }

    public const string FlowFile = "flow.onnx";

    /// <summary>
    /// flow.onnx: mu, logvar, context and eps → z = z_T and log_q = log q(z_T|x) — z₀ = μ + σ ⊙ ε, then each step's MADE
    /// over z_t and the context gives [m | s] and the step, as the kernels compute them node for node.
    /// </summary>
    public IReadOnlyList<OnnxFile> OnnxFiles(VaeModel model)
    {
        int k = latent;
        var graph = new OnnxGraph("flow");
        var parameters = new OnnxParameters(model);
        string mu = graph.Input("mu", "N", k), logVar = graph.Input("logvar", "N", k);
        string contextInput = graph.Input("context", "N", flow.ContextDim), eps = graph.Input("eps", "N", k);
        var (z, logQ) = OnnxReparameterize(graph, mu, logVar, eps);
        foreach (var step in steps)
        {
            var ms = new OnnxValue(z, null);
            foreach (var layer in step.Layers) ms = layer.Onnx(graph, parameters, ms, contextInput);
            (z, logQ) = OnnxStep(graph, z, ms.Name, logQ);
        }
        OnnxGraph.Expect([graph.Node("Identity", [z], "z")], "z");
        graph.Output("z", "N", k);
        // Per row: the elements' sum, less the Gaussian's ½·log 2π per dimension.
        string sum = graph.Node("ReduceSum", [logQ, graph.Int64s("latent_axis", 1)], "log_q_sum", new OnnxAttribute("keepdims", Int: 0));
        string total = graph.Node("Add", [sum, graph.Scalar("log_normalizer", (float)(-0.5 * k * Math.Log(2 * Math.PI)))], "log_q_total");
        OnnxGraph.Expect([graph.Node("Identity", [total], "log_q")], "log_q");
        graph.Output("log_q", "N");
        return [new OnnxFile(FlowFile, graph, $"IAF posterior of a {model.Spec} VAE: mu, logvar, context (from encoder.onnx), eps ~ N(0, I) → z = z_T, log_q = log q(z|x)")];
    }

    /// <summary>z₀ = μ + exp(½·log σ²) ⊙ ε, and for log q(z|x) its elements −½(ε² + log σ²) (the ½·log 2π added later).</summary>
    static (string Z, string LogQ) OnnxReparameterize(OnnxGraph graph, string mu, string logVar, string eps)
    {
        string sigma = graph.Node("Exp", [graph.Node("Mul", [graph.Scalar("half", 0.5f), logVar], "half_logvar")], "sigma");
        string z = graph.Node("Add", [mu, graph.Node("Mul", [sigma, eps], "sigma_eps")], "z0");
        string squares = graph.Node("Mul", [eps, eps], "eps_squared");
        string logQ = graph.Node("Mul", [graph.Node("Add", [squares, logVar], "eps_squared_logvar"), graph.Scalar("minus_half", -0.5f)], "log_q0");
        return (z, logQ);
    }

    /// <summary>
    /// A step after its MADE made <paramref name="ms"/> = [m | s] [N, 2k], as <see cref="Flows.StepForward"/>: σ = sigmoid(s),
    /// z_{t+1} = σ ⊙ z_t + (1 − σ) ⊙ m; and the step's −log σ = softplus(−s) added into the elements of log q.
    /// </summary>
    (string Z, string LogQ) OnnxStep(OnnxGraph graph, string z, string ms, string logQ)
    {
        var split = graph.Node("Split", [ms, graph.Int64s("ms_split", latent, latent)], ["m", "s"], new OnnxAttribute("axis", Int: 1));
        string m = split[0], s = split[1];
        string sigma = graph.Node("Sigmoid", [s], "gate");
        string rest = graph.Node("Sub", [graph.Scalar("one", 1f), sigma], "one_minus_gate");
        string next = graph.Node("Add", [graph.Node("Mul", [sigma, z], "gate_z"), graph.Node("Mul", [rest, m], "rest_m")], "z_step");
        string logDet = graph.Node("Softplus", [graph.Node("Neg", [s], "minus_s")], "minus_log_gate");
        return (next, graph.Node("Add", [logQ, logDet], "log_q_step"));
    }

    public void Dispose()
    {
        foreach (var b in new[] { contextOut, contextGrad }.Concat(stepZ).Concat(stepDz)) b?.Dispose();
        foreach (var s in steps) s.Dispose();
    }
}

/// <summary>The Gaussian followed by an inverse autoregressive flow, whose structure is the spec's <see cref="ModelSpec.Flow"/>.</summary>
internal sealed class IafPosteriorKind : PosteriorKind
{
    public override string Name => "iaf";

    public override string KlTerm => IafPosterior.KlTermName;

    public override bool HasKlPerDimension => false;

    public override bool Describes(ModelSpec spec) => spec.Flow is not null;

    public override IPosterior Build(ModelSpec spec, ParameterLayout layout, Encoder encoder) =>
        new IafPosterior(spec, spec.Flow ?? throw new ArgumentException("An IAF posterior needs a flow."), layout, encoder);

    public override ModelSpec WithSettings(ModelSpec spec, SettingValue setting) =>
        spec with { Flow = new FlowSpec((int)setting("FlowSteps")!, (int[])setting("FlowHidden")!, (int)setting("ContextDim")!) };

    public override ModelSpec WithFixture(ModelSpec spec, JsonElement model) => spec with
    {
        Flow = new FlowSpec(model.GetProperty("flow_steps").GetInt32(), model.GetProperty("flow_hidden").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            model.GetProperty("context_dim").GetInt32()),
    };
}
