using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// A PixelCNN decoder stack (<see cref="PixelCnnLayout"/>) on one device, run as a model would run it: the parameters
/// (kept layouts) and masks at the layout's offsets, every layer's output, gradient and scratch, z and dz.
/// </summary>
internal sealed class PixelCnnRig
{
    readonly DeviceArrays d;
    readonly ArrayView<float> masks, workspace;
    readonly ArrayView<float>[] outputs, grads, kept;

    public PixelCnnRig(DeviceArrays d, PixelCnnLayout layout, int batch, float[] parameters, float[] z)
    {
        (this.d, Layout, Batch) = (d, layout, batch);
        Parameters = d.Upload(parameters);
        Gradients = d.Floats(layout.End);
        masks = d.Upload(Masks(layout));
        var layers = layout.Layers;
        outputs = layers.Select(l => d.Floats(batch * l.Outputs)).ToArray();
        grads = layers.Select(l => d.Floats(batch * l.Outputs)).ToArray();
        kept = layers.Select(l => d.Floats(l.KeptFloats(batch))).ToArray();
        workspace = d.Floats(layers.Max(l => l.WorkspaceFloats(batch)));
        Z = d.Upload(z);
        Dz = d.Floats(z.Length);
    }

    /// <summary>Parameters drawn as PyTorch initializes them (uniform in ±1/√fan-in), the masked entries +0.</summary>
    public static float[] RandomParameters(PixelCnnLayout layout, Random random) =>
        layout.Tensors.SelectMany(t => TestData.Uniform(random, t.Length, -1 / Math.Sqrt(t.FanIn), 1 / Math.Sqrt(t.FanIn))
            .Select((v, i) => t.Mask is { } m && m[i] == 0f ? 0f : v)).ToArray();

    /// <summary>Every parameter's mask at its offset (1 where a tensor has none).</summary>
    public static float[] Masks(PixelCnnLayout layout) => layout.Tensors.SelectMany(t => t.Mask ?? Enumerable.Repeat(1f, t.Length)).ToArray();

    public PixelCnnLayout Layout { get; }
    public int Batch { get; }
    public ArrayView<float> Parameters { get; }
    public ArrayView<float> Gradients { get; }
    public ArrayView<float> Z { get; }
    public ArrayView<float> Dz { get; }
    /// <summary>The decoder's output, NCHW [batch, C·H·W], after <see cref="Forward(ArrayView{float})"/>.</summary>
    public ArrayView<float> Output => outputs[^1];

    LayerBuffers Buffers(int i) => new(d.Device.Kernels, Parameters, Gradients, kept[i], workspace) { Context = Z, ContextGradient = Dz, Masks = masks };

    /// <summary>The stack on x (NCHW); returns its output.</summary>
    public float[] Forward(ArrayView<float> x)
    {
        var input = x;
        for (int i = 0; i < Layout.Layers.Count; i++)
        {
            Layout.Layers[i].Forward(Buffers(i), Batch, input, outputs[i]);
            input = outputs[i];
        }
        return DeviceArrays.Download(Output);
    }

    public float[] Forward(float[] x) => Forward(d.Upload(x));

    /// <summary>From ∂L/∂output (NCHW) back to every parameter and to z (the last layer writes dz, the others add to it).</summary>
    public void Backward(ArrayView<float> x, ArrayView<float> dOutput)
    {
        var layers = Layout.Layers;
        dOutput.SubView(0, grads[^1].Length).CopyTo(grads[^1]);
        for (int i = layers.Count - 1; i >= 0; i--)
            layers[i].Backward(Buffers(i) with { AccumulateContextGradient = i < layers.Count - 1 }, Batch, i > 0 ? outputs[i - 1] : x,
                grads[i], i > 0 ? layers[i - 1].Activation : Activation.Identity, i > 0 ? grads[i - 1] : null);
    }

    public void Backward(ArrayView<float> x, float[] dOutput) => Backward(x, d.Upload(dOutput));
}
