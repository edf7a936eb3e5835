using ILGPU.Runtime;

namespace IlgpuVae.Model;

/// <summary>
/// Host-side use of a trained model, in chunks of the model's batch size: posterior means of images, and
/// images decoded from codes (σ(logits) for a Bernoulli decoder, the clamped mean for a Gaussian one).
/// </summary>
internal static class VaeInference
{
    /// <summary>μ and log σ² [count, k] of q(z|x) for <paramref name="count"/> images.</summary>
    public static (float[] Mu, float[] LogVar) Encode(VaeModel model, float[] pixels, int count)
    {
        int d = model.Spec.InputDim, k = model.Spec.LatentDim;
        var mu = new float[count * k];
        var logVar = new float[count * k];
        var heads = new float[model.MaxBatch * 2 * k];
        model.Epsilon.MemSetToZero();
        for (int start = 0; start < count; start += model.MaxBatch)
        {
            int rows = Math.Min(model.MaxBatch, count - start);
            model.Input.SubView(0, (long)rows * d).CopyFromCPU(pixels.AsSpan(start * d, rows * d).ToArray());
            model.Encode(rows);
            model.Heads.CopyToCPU(heads);
            for (int r = 0; r < rows; r++)
            {
                Array.Copy(heads, r * 2 * k, mu, (start + r) * k, k);
                Array.Copy(heads, r * 2 * k + k, logVar, (start + r) * k, k);
            }
        }
        return (mu, logVar);
    }

    /// <summary>Images in [0, 1], [count, d], decoded from codes z [count, k].</summary>
    public static float[] Decode(VaeModel model, float[] z, int count) => Decode(model, z, count, pixels: true);

    /// <summary>The decoder's output itself, [count, d]: logits (Bernoulli) or unclamped means (Gaussian).</summary>
    public static float[] DecodeOutput(VaeModel model, float[] z, int count) => Decode(model, z, count, pixels: false);

    static float[] Decode(VaeModel model, float[] z, int count, bool pixels)
    {
        int d = model.Spec.InputDim, k = model.Spec.LatentDim;
        var images = new float[count * d];
        var output = new float[model.MaxBatch * d];
        for (int start = 0; start < count; start += model.MaxBatch)
        {
            int rows = Math.Min(model.MaxBatch, count - start);
            model.Z.SubView(0, (long)rows * k).CopyFromCPU(z.AsSpan(start * k, rows * k).ToArray());
            model.Decode(rows);
            model.DecoderOutput.CopyToCPU(output);
            for (int i = 0; i < rows * d; i++)
                images[start * d + i] = pixels ? ToPixel(output[i], model.Spec.Likelihood) : output[i];
        }
        return images;
    }

    static float ToPixel(float output, Likelihood likelihood) => likelihood == Likelihood.Bernoulli
        ? Kernels.Activations.Sigmoid(output)
        : Math.Clamp(output, 0f, 1f);
}
