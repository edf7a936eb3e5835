using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Model;

namespace IlgpuVae.Verification;

/// <summary>One compared quantity: its norm-wise relative error ‖got − want‖ / max(‖want‖, 1e-6).</summary>
internal sealed record GoldenDifference(string Quantity, double RelativeError);

/// <summary>
/// Runs one PyTorch-parity fixture on a device — its parameters, x, ε and prior draws loaded, one forward and
/// backward pass — and compares μ, log σ², z, the decoder output, the four loss terms and every gradient; with an
/// IAF posterior also the context, z₀ and log q(z|x) per row, and for every masked weight its mask.
/// The fixtures' rule: each within 1e-4.
/// </summary>
internal static class GoldenCheck
{
    public const double Tolerance = 1e-4;

    public static IReadOnlyList<GoldenDifference> Run(GoldenFixture f, ComputeDevice device)
    {
        int batch = f.X.Rows, k = f.Model.LatentDim;
        using var model = new VaeModel(device, f.Model, batch, f.PriorZ.Rows);
        ModelTensors.Load(model, f.Parameters.ToDictionary(p => p.Key, p => (p.Value.Shape, ToFloat(p.Value.Data))), f.Name);
        model.Input.SubView(0, f.X.Data.Length).CopyFromCPU(ToFloat(f.X.Data));
        model.Epsilon.SubView(0, f.Eps.Length).CopyFromCPU(ToFloat(f.Eps));
        model.Prior.SubView(0, f.PriorZ.Data.Length).CopyFromCPU(ToFloat(f.PriorZ.Data));
        var terms = model.Run(f.Objective, batch, backward: true);

        var e = f.Expected;
        var heads = Read(model.Heads, batch * 2 * k);
        var result = new List<GoldenDifference>
        {
            new("mu", Error(Columns(heads, batch, 2 * k, 0, k), Want(e, "mu"))),
            new("logvar", Error(Columns(heads, batch, 2 * k, k, k), Want(e, "logvar"))),
            new("z", Error(Read(model.Z, batch * k), Want(e, "z"))),
            new("decoder_out", Error(Read(model.DecoderOutput, batch * f.Model.InputDim), Want(e, "decoder_out"))),
        };
        if (f.Model.Flow is { } flow)
        {
            var z = Read(model.Z, batch * k);
            var kl = new double[batch * k];
            model.KlTerms.SubView(0, kl.Length).CopyToCPU(kl);
            result.Add(new("context", Error(Read(model.Context, batch * flow.ContextDim), Want(e, "context"))));
            result.Add(new("z0", Error(Read(model.Z0, batch * k), Want(e, "z0"))));
            result.Add(new("log_q", Error(LogQ(kl, z, batch, k), Want(e, "log_q"))));
        }
        var scalars = new List<(string, double)> { ("recon", terms.Recon), ("kl", terms.Kl), ("mmd", terms.Mmd), ("loss", terms.Loss) };
        if (f.Objective.TotalCorrelation is not null)
            scalars.AddRange([("index_code_mi", terms.IndexCodeMi), ("total_correlation", terms.TotalCorrelation), ("dimension_wise_kl", terms.DimensionWiseKl)]);
        foreach (var (name, got) in scalars)
        {
            double want = e.GetProperty(name).GetDouble();
            result.Add(new(name, Math.Abs(got - want) / Math.Max(Math.Abs(want), 1e-6)));
        }
        foreach (var tensor in model.Layout.Tensors.Where(t => t.Mask is not null || f.Masks.ContainsKey(t.Name)))
            result.Add(new($"mask {tensor.Name}", MaskMismatch(tensor, f)));
        var grads = e.GetProperty("grads");
        foreach (var (tensor, data) in ModelTensors.Read(model, gradients: true))
        {
            var (shape, want) = GoldenFixture.Tensor(grads.GetProperty(tensor.Name));
            if (!shape.SequenceEqual(tensor.Shape))
                throw new InvalidDataException($"{f.Name}: gradient '{tensor.Name}' has shape [{string.Join(", ", shape)}], the model [{string.Join(", ", tensor.Shape)}].");
            result.Add(new($"grad {tensor.Name}", Error(data, want)));
        }
        return result;
    }

    /// <summary>
    /// log q(z_T|x) per row from the flow's KL elements, log q − log p(z_T) with the 2π terms cancelled:
    /// Σ_j kl[b, j] − Σ_j ½z_T² − k·½log 2π.
    /// </summary>
    static float[] LogQ(double[] kl, float[] z, int batch, int k)
    {
        var logQ = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            double sum = -0.5 * k * Math.Log(2 * Math.PI);
            for (int j = 0; j < k; j++) sum += kl[b * k + j] - 0.5 * z[b * k + j] * (double)z[b * k + j];
            logQ[b] = (float)sum;
        }
        return logQ;
    }

    /// <summary>The share of a masked weight's entries where the fixture's mask and the model's differ (1 where either lacks one).</summary>
    static double MaskMismatch(ParameterTensor tensor, GoldenFixture f)
    {
        if (tensor.Mask is not { } mine || !f.Masks.TryGetValue(tensor.Name, out var theirs) || !theirs.Shape.SequenceEqual(tensor.Shape)) return 1;
        // Mine is in the layout the model keeps, theirs in PyTorch's.
        return (double)mine.Where((m, i) => m != theirs.Data[tensor.FileIndex?.Invoke(i) ?? i]).Count() / mine.Length;
    }

    /// <summary>‖got − want‖ / max(‖want‖, 1e-6).</summary>
    public static double Error(ReadOnlySpan<float> got, ReadOnlySpan<double> want)
    {
        if (got.Length != want.Length) return double.PositiveInfinity;
        double diff = 0, norm = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double d = got[i] - want[i];
            diff += d * d;
            norm += want[i] * want[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-6);
    }

    static double[] Want(System.Text.Json.JsonElement e, string name) => GoldenFixture.Tensor(e.GetProperty(name)).Data;

    static float[] Read(ILGPU.ArrayView<float> view, int n)
    {
        var host = new float[n];
        view.SubView(0, n).CopyToCPU(host);
        return host;
    }

    static float[] Columns(float[] m, int rows, int width, int start, int count)
    {
        var r = new float[rows * count];
        for (int i = 0; i < rows; i++)
            Array.Copy(m, i * width + start, r, i * count, count);
        return r;
    }

    static float[] ToFloat(double[] d) => Array.ConvertAll(d, v => (float)v);
}
