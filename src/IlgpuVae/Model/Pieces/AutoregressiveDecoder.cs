using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// What the decoders that model p(x|z) = Π_i p(x_i | x_&lt;i, z) share (a MADE, a PixelCNN): their layers read x and
/// the context z (<see cref="LayerBuffers.Context"/>), each layer's backward adds to ∂L/∂z, and drawn images are read
/// back from <see cref="VaeModel.Input"/>, where they were drawn value by value.
/// </summary>
internal abstract class AutoregressiveDecoder(ModelSpec spec, IReadOnlyList<Layer> layers) : StackDecoder(spec, layers)
{
    public override bool ReadsInput => true;

    public override void Forward(VaeModel model, int batch) => Stack.Forward(model.Buffers with { Context = model.Z }, batch, model.Input);

    /// <summary>x needs no gradient; ∂L/∂z is every layer's context gradient, summed.</summary>
    public override void Backward(VaeModel model, int batch) =>
        Stack.Backward(model.Buffers with { Context = model.Z, ContextGradient = model.Dz }, batch, model.Input, null);

    /// <summary>The images drawn into <see cref="VaeModel.Input"/>, into <paramref name="images"/>: a Gaussian decoder's means clamped to [0, 1].</summary>
    protected void ReadDrawnImages(VaeModel model, Span<float> images)
    {
        model.Input.SubView(0, images.Length).CopyToCPU(images);
        if (Spec.Likelihood == Likelihood.Gaussian)
            for (int i = 0; i < images.Length; i++) images[i] = Math.Clamp(images[i], 0f, 1f);
    }
}
