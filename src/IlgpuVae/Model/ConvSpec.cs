namespace IlgpuVae.Model;

/// <summary>One strided convolution of the encoder: <see cref="Channels"/> output channels, a square kernel.</summary>
internal sealed record ConvLayerSpec(int Channels, int Kernel, int Stride, int Padding)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range and the option that sets it.</summary>
    public static void Validate(ConvLayerSpec l)
    {
        if (l.Channels <= 0) throw new ArgumentException($"Every convolution needs a positive channel count; got {l.Channels} (RunConfig.Channels).");
        if (l.Kernel <= 0) throw new ArgumentException($"The convolution kernel must be at least 1; got {l.Kernel} (RunConfig.ConvKernel).");
        if (l.Stride <= 0) throw new ArgumentException($"The convolution stride must be at least 1; got {l.Stride} (RunConfig.ConvStride).");
        if (l.Padding < 0 || l.Padding >= l.Kernel)
            throw new ArgumentException($"The convolution padding must lie in [0, kernel − 1] = [0, {l.Kernel - 1}]; got {l.Padding} (RunConfig.ConvPadding).");
    }
}

/// <summary>An image's channels, height and width.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per image, C·H·W.</summary>
    public int Size => Channels * Height * Width;
    /// <summary>Pixels per channel, H·W.</summary>
    public int Pixels => Height * Width;

    /// <summary>"C×H×W", e.g. "1×28×28".</summary>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}

/// <summary>
/// The convolutional part of a model: the input image's shape and the encoder's convolutions, each followed by
/// the model's activation. The decoder mirrors them with transposed convolutions (<see cref="Mirror"/>): the
/// same kernel, stride and padding in reverse order, back to the image's channels, with the output padding that
/// restores each size exactly.
/// </summary>
internal sealed record ConvSpec(ImageShape Image, IReadOnlyList<ConvLayerSpec> Layers)
{
    /// <summary>The shape after each convolution (index i: after layer i); throws naming the layer that cannot fit.</summary>
    public IReadOnlyList<ImageShape> Shapes()
    {
        var shapes = new List<ImageShape>();
        var shape = Image;
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            ConvLayerSpec.Validate(l);
            if (shape.Height + 2 * l.Padding < l.Kernel || shape.Width + 2 * l.Padding < l.Kernel)
                throw new ArgumentException($"Convolution {i + 1}'s {l.Kernel}×{l.Kernel} kernel is larger than its padded {shape.Height}×{shape.Width} input " +
                    $"(padding {l.Padding}). Use fewer RunConfig.Channels layers, a smaller RunConfig.ConvKernel or larger images.");
            shape = new ImageShape(l.Channels, (shape.Height + 2 * l.Padding - l.Kernel) / l.Stride + 1, (shape.Width + 2 * l.Padding - l.Kernel) / l.Stride + 1);
            shapes.Add(shape);
        }
        return shapes;
    }

    /// <summary>The last convolution's output shape: what the encoder's dense part flattens and the decoder reshapes to.</summary>
    public ImageShape Deepest => Layers.Count == 0 ? Image : Shapes()[^1];

    /// <summary>
    /// The decoder's transposed convolutions, first to last: transposed conv j undoes conv L−1−j, from its output
    /// shape back to its input shape, with output padding (per axis) in = ((out − 1)·stride − 2·padding + kernel) + op.
    /// </summary>
    public IReadOnlyList<(ImageShape In, ImageShape Out, ConvLayerSpec Layer, int OutputPaddingH, int OutputPaddingW)> Mirror()
    {
        var shapes = Shapes();
        var result = new List<(ImageShape, ImageShape, ConvLayerSpec, int, int)>();
        for (int i = Layers.Count - 1; i >= 0; i--)
        {
            var l = Layers[i];
            var input = i == 0 ? Image : shapes[i - 1];
            var output = shapes[i];
            int opH = input.Height - ((output.Height - 1) * l.Stride - 2 * l.Padding + l.Kernel);
            int opW = input.Width - ((output.Width - 1) * l.Stride - 2 * l.Padding + l.Kernel);
            result.Add((output, input, l, opH, opW));
        }
        return result;
    }

    /// <summary>"1×28×28 c64k4s2p1 c128k4s2p1".</summary>
    public override string ToString() => $"{Image} " + string.Join(" ", Layers.Select(l => $"c{l.Channels}k{l.Kernel}s{l.Stride}p{l.Padding}"));

    public bool Equals(ConvSpec? other) => other is not null && Image == other.Image && Layers.SequenceEqual(other.Layers);

    public override int GetHashCode() => HashCode.Combine(Image, Layers.Count);
}
