using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// Host-side use of a trained model, in chunks of the model's batch size: posterior means of images, and
/// images decoded from codes (as the decoder draws them: <see cref="IDecoder.DrawImages"/>).
/// </summary>
internal static class VaeInference
{
    /// <summary>
    /// μ and log σ² [count, k] of q(z|x) for <paramref name="count"/> images, and each image's code at ε = 0: μ, or
    /// with an IAF posterior μ carried through the flow.
    /// </summary>
    public static (float[] Mu, float[] LogVar, float[] Codes) Encode(VaeModel model, float[] pixels, int count)
    {
        int d = model.Spec.InputDim, k = model.Spec.LatentDim;
        var mu = new float[count * k];
        var logVar = new float[count * k];
        var codes = new float[count * k];
        var heads = new float[model.MaxBatch * 2 * k];
        model.Epsilon.MemSetToZero();
        for (int start = 0; start < count; start += model.MaxBatch)
        {
            int rows = Math.Min(model.MaxBatch, count - start);
            model.Input.SubView(0, (long)rows * d).CopyFromCPU(pixels.AsSpan(start * d, rows * d).ToArray());
            model.Encode(rows);
            model.Heads.CopyToCPU(heads);
            model.Z.SubView(0, (long)rows * k).CopyToCPU(codes.AsSpan(start * k, rows * k));
            for (int r = 0; r < rows; r++)
            {
                Array.Copy(heads, r * 2 * k, mu, (start + r) * k, k);
                Array.Copy(heads, r * 2 * k + k, logVar, (start + r) * k, k);
            }
        }
        return (mu, logVar, codes);
    }

    /// <summary>
    /// Images in [0, 1], [count, d], decoded from codes z [count, k] (<see cref="IDecoder.DrawImages"/>: an
    /// autoregressive decoder's are drawn value by value, keyed by <paramref name="samplingKey"/> and the chunk).
    /// </summary>
    public static float[] Decode(VaeModel model, float[] z, int count, ulong samplingKey = 0)
    {
        int d = model.Spec.InputDim;
        var images = new float[count * d];
        ForEachChunk(model, z, count, (rows, start, chunk) =>
            model.Decoder.DrawImages(model, rows, CounterRng.Key(samplingKey, (ulong)chunk, 0), images.AsSpan(start * d, rows * d)));
        return images;
    }

    /// <summary>
    /// The decoder's output itself, [count, d]: logits (Bernoulli) or unclamped means (Gaussian); not for a decoder that
    /// reads x, whose output depends on the values it is given.
    /// </summary>
    public static float[] DecodeOutput(VaeModel model, float[] z, int count)
    {
        if (model.Decoder.ReadsInput)
            throw new InvalidOperationException("This decoder's output depends on the values it is given; decode draws them one after another.");
        int d = model.Spec.InputDim;
        var output = new float[count * d];
        ForEachChunk(model, z, count, (rows, start, _) =>
        {
            model.Decode(rows);
            model.DecoderOutput.SubView(0, (long)rows * d).CopyToCPU(output.AsSpan(start * d, rows * d));
        });
        return output;
    }

    /// <summary>Codes [count, k] into the model's batch a chunk at a time, then <paramref name="decode"/>(rows, first row, chunk).</summary>
    static void ForEachChunk(VaeModel model, float[] z, int count, Action<int, int, int> decode)
    {
        int k = model.Spec.LatentDim;
        for (int start = 0, chunk = 0; start < count; start += model.MaxBatch, chunk++)
        {
            int rows = Math.Min(model.MaxBatch, count - start);
            model.Z.SubView(0, (long)rows * k).CopyFromCPU(z.AsSpan(start * k, rows * k).ToArray());
            decode(rows, start, chunk);
        }
    }
}
