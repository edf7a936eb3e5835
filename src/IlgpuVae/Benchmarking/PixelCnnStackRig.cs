using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Benchmarking;

/// <summary>
/// A PixelCNN decoder's layers (<see cref="PixelCnnLayout"/>) on a device, run as a decoder runs them for one
/// training step: the stack's forward on binary images, the Bernoulli likelihood and its gradient, and the backward
/// to every parameter and to z (the first layer writing dz, the others adding). Parameters are drawn as PyTorch
/// draws them (uniform in ±1/√fan-in, masked entries 0), the images and codes from a fixed seed, so every step
/// does the same work. <see cref="Peer"/> is the shape of the PyTorch peer (scripts/pytorch_pixelcnn_peer.py).
/// </summary>
internal sealed class PixelCnnStackRig : IDisposable
{
    /// <summary>The peer's decoder: 28×28 grey, 32 channels, a 7×7 type-A layer and four 5×5 type-B layers.</summary>
    public static PixelCnnSpec Peer => new(new ImageShape(1, 28, 28), 32, 4, 5, 7);

    /// <summary>The peer's code width.</summary>
    public const int PeerLatent = 20;

    readonly ComputeDevice device;
    readonly PixelCnnLayout layout;
    readonly int batch;
    readonly List<MemoryBuffer1D<float, Stride1D.Dense>> buffers = [];
    readonly MemoryBuffer1D<double, Stride1D.Dense> nll;
    readonly ArrayView<float> parameters, gradients, masks, workspace, x, z, dz;
    readonly ArrayView<float>[] outputs, grads, kept;

    public PixelCnnStackRig(ComputeDevice device, PixelCnnSpec spec, int latent, int batch)
    {
        (this.device, this.batch) = (device, batch);
        layout = new PixelCnnLayout(spec, latent, Activation.Relu, 0);
        var memory = new DeviceMemory(device, $"a PixelCNN decoder's layers for batches of {batch}");
        var random = new Random(1);
        ArrayView<float> Upload(float[] values) { buffers.Add(memory.Upload(values)); return buffers[^1].View; }
        ArrayView<float> Floats(long length) { buffers.Add(memory.Floats(length)); return buffers[^1].View; }
        parameters = Upload(layout.Tensors.SelectMany(t => Enumerable.Range(0, t.Length).Select(i =>
            t.Mask is { } m && m[i] == 0f ? 0f : (float)((2 * random.NextDouble() - 1) / Math.Sqrt(t.FanIn)))).ToArray());
        gradients = Floats(layout.End);
        masks = Upload(layout.Tensors.SelectMany(t => t.Mask ?? Enumerable.Repeat(1f, t.Length)).ToArray());
        var layers = layout.Layers;
        outputs = layers.Select(l => Floats((long)batch * l.Outputs)).ToArray();
        grads = layers.Select(l => Floats((long)batch * l.Outputs)).ToArray();
        kept = layers.Select(l => Floats(l.KeptFloats(batch))).ToArray();
        workspace = Floats(layers.Max(l => l.WorkspaceFloats(batch)));
        x = Upload(Enumerable.Range(0, batch * spec.Image.Size).Select(_ => random.NextDouble() < 0.3 ? 1f : 0f).ToArray());
        z = Upload(Enumerable.Range(0, batch * latent).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray());
        dz = Floats((long)batch * latent);
        nll = memory.Doubles(batch);
    }

    public PixelCnnLayout Layout => layout;

    public int Batch => batch;

    /// <summary>The decoder's logits, NCHW [batch, C·H·W].</summary>
    public ArrayView<float> Output => outputs[^1];

    /// <summary>Every parameter's gradient after <see cref="Backward"/>.</summary>
    public ArrayView<float> Gradients => gradients;

    /// <summary>∂L/∂z after <see cref="Backward"/>.</summary>
    public ArrayView<float> ContextGradient => dz;

    LayerBuffers Buffers(int i) => new(device.Kernels, parameters, gradients, kept[i], workspace) { Context = z, ContextGradient = dz, Masks = masks };

    /// <summary>The stack on the images, keeping what the backward needs.</summary>
    public void Forward()
    {
        var input = x;
        for (int i = 0; i < layout.Layers.Count; i++)
        {
            layout.Layers[i].Forward(Buffers(i), batch, input, outputs[i]);
            input = outputs[i];
        }
    }

    /// <summary>The likelihood's gradient at the output, then every layer's backward, the last layer first.</summary>
    public void Backward()
    {
        var layers = layout.Layers;
        device.Kernels.Likelihood(Kernels.Likelihood.Bernoulli, 0f, batch, layout.Layers[^1].Outputs, 1f / batch, Output, x, nll.View, grads[^1]);
        for (int i = layers.Count - 1; i >= 0; i--)
            layers[i].Backward(Buffers(i) with { AccumulateContextGradient = i < layers.Count - 1 }, batch, i > 0 ? outputs[i - 1] : x,
                grads[i], i > 0 ? layers[i - 1].Activation : Activation.Identity, i > 0 ? grads[i - 1] : null);
    }

    /// <summary>A forward and a backward, waited for.</summary>
    public void Step()
    {
        Forward();
        Backward();
        device.Synchronize();
    }

    /// <summary>Each kernel's launches and milliseconds per step over <paramref name="steps"/> profiled steps, after two warm ones.</summary>
    public IReadOnlyList<KernelShare> Profile(int steps)
    {
        Step();
        Step();
        return KernelProfile.During(device, () =>
        {
            for (int s = 0; s < steps; s++) Step();
        }).PerStep(steps);
    }

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        nll.Dispose();
    }
}
