using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// A conditional PixelCNN decoder over images of <see cref="Image"/> (<see cref="PixelCnn"/>): a type-A masked conv
/// with a <see cref="FirstKernel"/>² kernel from the image's C channels to <see cref="Channels"/>, then
/// <see cref="Layers"/> type-B convs of <see cref="Kernel"/>² between <see cref="Channels"/>, each followed by the
/// activation, then a 1×1 type-B conv to the C channels with none: logits (Bernoulli) or means (Gaussian), NCHW.
/// </summary>
internal sealed record PixelCnnSpec(ImageShape Image, int Channels, int Layers, int Kernel, int FirstKernel) : DecoderOptions
{
    /// <summary>One masked conv of the stack: channels in and out, kernel, and whether its centre excludes its own group (type A).</summary>
    public readonly record struct Conv(int InChannels, int OutChannels, int Kernel, bool TypeA);

    /// <summary>The masked convs in order, checked (<see cref="Validate"/>).</summary>
    public IReadOnlyList<Conv> Convs()
    {
        Validate();
        var convs = new List<Conv> { new(Image.Channels, Channels, FirstKernel, true) };
        for (int l = 0; l < Layers; l++) convs.Add(new(Channels, Channels, Kernel, false));
        convs.Add(new(Channels, Image.Channels, 1, false));
        return convs;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (Image.Channels < 1 || Image.Height < 1 || Image.Width < 1) throw new ArgumentException($"A PixelCNN needs a non-empty image; got {Image}.");
        // Fewer channels than colours would leave a colour group empty, and that colour blind to the values before it in its pixel.
        if (Channels < Image.Channels)
            throw new ArgumentException($"A PixelCNN over {Image.Channels} colour channels needs at least {Image.Channels} feature channels; got {Channels}.");
        if (Layers < 0) throw new ArgumentException($"A PixelCNN's type-B layers cannot number {Layers}.");
        // A 1×1 type-A layer would see only the values before it in its own pixel, and nothing at all in a grey image.
        if (FirstKernel < 3 || FirstKernel % 2 == 0) throw new ArgumentException($"A PixelCNN's first (type-A) kernel must be odd and at least 3; got {FirstKernel}.");
        if (Kernel < 1 || Kernel % 2 == 0) throw new ArgumentException($"A PixelCNN's kernel must be odd and positive; got {Kernel}.");
    }

    /// <summary>"pixelcnn[32: 7×7 A, 4 × 5×5 B]".</summary>
    public override string ToString() => $"pixelcnn[{Channels}: {FirstKernel}×{FirstKernel} A, {Layers} × {Kernel}×{Kernel} B]";
}

/// <summary>
/// The parameter tensors and layers of a PixelCNN decoder, registered in a <see cref="ParameterLayout"/> in PyTorch's names
/// and layouts: decoder.pixelcnn.{i}.weight [out, in, K, K] (masked, fan-in in·K²), decoder.pixelcnn.{i}.cond.weight
/// [out, Z] (z's V, fan-in Z, no bias of its own), decoder.pixelcnn.{i}.bias [out] (fan-in in·K²) for the type-A layer
/// (i = 0) and the type-B layers; decoder.out.weight [C, F, 1, 1], decoder.out.cond.weight [C, Z], decoder.out.bias [C]
/// for the last. Each weight is kept as [K, K, in, out] (<see cref="PixelCnn.FileIndex"/>) with its mask (<see cref="PixelCnn.Mask"/>).
/// </summary>
internal sealed class PixelCnnLayout
{
    readonly List<ParameterTensor> tensors = [];
    readonly List<MaskedConv2dLayer> layers = [];

    /// <summary>The decoder's tensors, in the order registered.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => tensors;
    public IReadOnlyList<MaskedConv2dLayer> Layers => layers;
    /// <summary>One past the last parameter.</summary>
    public int End => layout.Count;

    readonly ParameterLayout layout;

    /// <summary>The decoder alone, its first parameter at <paramref name="offset"/>.</summary>
    public PixelCnnLayout(PixelCnnSpec spec, int latent, Activation activation, int offset)
        : this(spec, latent, activation, new ParameterLayout(offset)) { }

    /// <summary>The decoder's tensors registered in <paramref name="layout"/> after what it holds.</summary>
    public PixelCnnLayout(PixelCnnSpec spec, int latent, Activation activation, ParameterLayout layout)
    {
        if (latent < 1) throw new ArgumentException($"A conditional PixelCNN needs a code to condition on; got {latent} latent dimensions.");
        this.layout = layout;
        var convs = spec.Convs();
        var image = spec.Image;
        for (int i = 0; i < convs.Count; i++)
        {
            var c = convs[i];
            bool last = i == convs.Count - 1;
            string name = last ? "decoder.out" : $"decoder.pixelcnn.{i}";
            int fanIn = c.InChannels * c.Kernel * c.Kernel;
            int w = Add(name + ".weight", [c.OutChannels, c.InChannels, c.Kernel, c.Kernel], fanIn,
                PixelCnn.FileIndex(c.Kernel, c.InChannels, c.OutChannels), PixelCnn.Mask(c.Kernel, c.InChannels, c.OutChannels, image.Channels, c.TypeA));
            int v = Add(name + ".cond.weight", [c.OutChannels, latent], latent);
            int b = Add(name + ".bias", [c.OutChannels], fanIn);
            layers.Add(new MaskedConv2dLayer(image with { Channels = c.InChannels }, c.OutChannels, c.Kernel, latent,
                last ? Activation.Identity : activation, inputChannelsLast: i > 0, outputChannelsLast: !last, w, v, b));
        }
    }

    int Add(string name, int[] shape, int fanIn, Func<int, int>? fileIndex = null, float[]? mask = null)
    {
        int offset = layout.Add(name, shape, fanIn, fileIndex, mask);
        tensors.Add(layout.Tensors[^1]);
        return offset;
    }
}
