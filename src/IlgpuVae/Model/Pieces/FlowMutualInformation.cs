using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;

namespace IlgpuVae.Model;

/// <summary>
/// The mutual information I_q(x; z) of an IAF posterior on the first m images: E_i[log q(z_i|x_i) − log (1/m) Σ_j
/// q(z_i|x_j)], with z_i one draw of image i's posterior. q(z_i|x_j) needs image j's flow run backwards from z_i:
/// every (code, image) pair is a row, m² in all, inverted in chunks by <see cref="Kernels.FlowInversion"/> — k passes
/// of each step's MADE (its own layers, on chunks of more rows than the model's batch) — then log N(z₀; μ_j, σ_j²)
/// less the steps' Σ log σ. The m² log-densities stay on the device; each code's log-mean-exp over the images is
/// <see cref="KernelSet.LogMeanExp"/>'s.
/// </summary>
static class FlowMutualInformation
{
    /// <summary>Pairs inverted per launch chunk.</summary>
    const int ChunkRows = 4096;

    /// <summary>MI over the first <paramref name="m"/> images, from their heads [n, 2k], contexts [n, C] and codes z_T [n, k].</summary>
    public static double Estimate(VaeModel model, IafPosterior posterior, int m, ArrayView<float> heads, ArrayView<float> contexts, ArrayView<float> codes) =>
        Run(model, posterior, m, heads, contexts, codes).Mi;

    /// <summary>log q(z_i | x_j) for i, j &lt; m, row-major [i, j] (for tests).</summary>
    internal static double[] LogDensities(VaeModel model, IafPosterior posterior, int m, ArrayView<float> heads, ArrayView<float> contexts, ArrayView<float> codes) =>
        Run(model, posterior, m, heads, contexts, codes).LogDensities;

    static (double Mi, double[] LogDensities) Run(VaeModel model, IafPosterior posterior, int m, ArrayView<float> heads, ArrayView<float> contexts,
        ArrayView<float> codes)
    {
        var kernels = model.Kernels;
        int k = model.Spec.LatentDim, c = posterior.ContextWidth, steps = posterior.Steps.Count;
        long pairs = (long)m * m;
        int rows = (int)Math.Min(pairs, ChunkRows);
        var layers = posterior.Steps[0].Layers;
        var memory = new DeviceMemory(model.Device, $"the flow's mutual information over {m} images");
        using var next = memory.Floats((long)rows * k);
        using var z = memory.Floats((long)rows * k);
        using var context = memory.Floats((long)rows * c);
        using var rowHeads = memory.Floats(2L * rows * k);
        using var logQ = memory.Doubles(rows);
        using var all = memory.Doubles(pairs);
        using var means = memory.Doubles(m);
        using var unused = memory.Doubles(m);
        using var workspace = memory.Floats(layers.Max(l => l.WorkspaceFloats(rows)));
        var outputs = layers.Select(l => memory.Floats((long)rows * l.Outputs)).ToArray();
        var into = outputs.Select(o => (ArrayView<float>)o.View).ToArray();
        try
        {
            var buffers = model.Buffers with { Workspace = workspace.View, Context = context.View };
            for (long first = 0; first < pairs; first += rows)
            {
                int r = (int)Math.Min(rows, pairs - first);
                kernels.PairRows((int)first, r, m, k, cycle: false, codes, next.View);
                kernels.PairRows((int)first, r, m, c, cycle: true, contexts, context.View);
                kernels.PairRows((int)first, r, m, 2 * k, cycle: true, heads, rowHeads.View);
                var (from, to) = (next, z);
                for (int t = steps - 1; t >= 0; t--)
                {
                    from.View.SubView(0, (long)r * k).CopyTo(to.View.SubView(0, (long)r * k));
                    for (int pass = 0; pass < k; pass++)
                    {
                        posterior.Steps[t].Forward(buffers, r, to.View, into);
                        kernels.InversionPass(r, k, from.View, outputs[^1].View, to.View);
                    }
                    kernels.AddLogDeterminant(r, k, first: t == steps - 1, outputs[^1].View, logQ.View);
                    (from, to) = (to, from);
                }
                kernels.AddGaussian(r, k, from.View, rowHeads.View, logQ.View);
                logQ.View.SubView(0, r).CopyTo(all.View.SubView(first, r));
            }
            kernels.LogMeanExp(m, m, all.View, means.View, unused.View);
            var logDensities = all.GetAsArray1D();
            var logMeans = means.GetAsArray1D();
            double sum = 0;
            for (int i = 0; i < m; i++) sum += logDensities[(long)i * m + i] - logMeans[i];
            return (sum / m, logDensities);
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();
        }
    }
}
