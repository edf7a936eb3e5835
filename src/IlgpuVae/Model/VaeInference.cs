using IlgpuVae.Kernels;
using ILGPU.Runtime;

namespace IlgpuVae.Model;

/// <summary>
/// Host-side use of a trained model, in chunks of the model's batch size: posterior means of images, and
/// images decoded from codes (σ(logits) for a Bernoulli decoder, the clamped mean for a Gaussian one; a MADE
/// decoder draws its images pixel by pixel).
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
    /// Images in [0, 1], [count, d], decoded from codes z [count, k]; a MADE decoder's are drawn pixel by pixel
    /// (<see cref="VaeModel.SampleAutoregressive"/>) with draws keyed by <paramref name="samplingKey"/>.
    /// </summary>
    public static float[] Decode(VaeModel model, float[] z, int count, ulong samplingKey = 0) =>
        Decode(model, z, count, pixels: true, samplingKey);

    /// <summary>The decoder's output itself, [count, d]: logits (Bernoulli) or unclamped means (Gaussian); not for a MADE decoder, whose output depends on the pixels drawn.</summary>
    public static float[] DecodeOutput(VaeModel model, float[] z, int count) => model.Spec.Decoder == DecoderKind.Made
        ? throw new InvalidOperationException("A MADE decoder's output depends on the pixels it is given; decode draws them pixel by pixel.")
        : Decode(model, z, count, pixels: false, 0);

    static float[] Decode(VaeModel model, float[] z, int count, bool pixels, ulong samplingKey)
    {
        int d = model.Spec.InputDim, k = model.Spec.LatentDim;
        bool made = model.Spec.Decoder == DecoderKind.Made;
        var images = new float[count * d];
        var output = new float[model.MaxBatch * d];
        for (int start = 0, chunk = 0; start < count; start += model.MaxBatch, chunk++)
        {
            int rows = Math.Min(model.MaxBatch, count - start);
            model.Z.SubView(0, (long)rows * k).CopyFromCPU(z.AsSpan(start * k, rows * k).ToArray());
            if (made)
            {
                // The drawn pixels themselves: 0/1 for a Bernoulli decoder, means for a Gaussian one.
                model.SampleAutoregressive(rows, Kernels.CounterRng.Key(samplingKey, (ulong)chunk, 0));
                model.Input.SubView(0, (long)rows * d).CopyToCPU(images.AsSpan(start * d, rows * d));
                if (model.Spec.Likelihood == Likelihood.Gaussian)
                    for (int i = start * d; i < (start + rows) * d; i++) images[i] = Math.Clamp(images[i], 0f, 1f);
                continue;
            }
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
