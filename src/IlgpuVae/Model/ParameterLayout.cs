using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// One named parameter tensor inside the flat buffer, named and shaped as PyTorch saves it. <see cref="FileIndex"/>
/// maps an element's index inside the buffer to its index in PyTorch's layout where the two differ (a conv weight
/// kept with its input channels last; a dense layer that reads or writes an NHWC feature map), else null.
/// <see cref="FanIn"/> is what PyTorch's default initialization scales by; <see cref="Constant"/>, where set, is
/// the initial value instead (a flow's s bias). <see cref="Mask"/> is a masked layer's 0/1 connectivity, in the
/// tensor's own layout: its zeros are weights that are held at zero.
/// </summary>
internal sealed record ParameterTensor(string Name, int[] Shape, int Offset, int FanIn, Func<int, int>? FileIndex = null,
    float[]? Mask = null, float? Constant = null)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Where each parameter lives in the one contiguous parameter buffer (and, at the same offsets, in the gradient and
/// optimizer-state buffers). The model's pieces (<see cref="ModelPieces"/>) register their tensors here as they build
/// their layers, in the model's order — the encoder's, the posterior's, the decoder's — through the helpers below,
/// which name every tensor as PyTorch would and return the layer that reads it.
/// </summary>
internal sealed class ParameterLayout(int start = 0)
{
    readonly List<ParameterTensor> tensors = [];

    public IReadOnlyList<ParameterTensor> Tensors => tensors;
    /// <summary>Whether any tensor is masked, so the model keeps a mask buffer.</summary>
    public bool HasMasks => tensors.Any(t => t.Mask is not null);
    /// <summary>One past the last parameter: their number, for a layout that starts at 0 (as a model's does).</summary>
    public int Count { get; private set; } = start;

    /// <summary>The layout of a model of <paramref name="spec"/> (its pieces built, nothing allocated).</summary>
    public static ParameterLayout Of(ModelSpec spec) => ModelPieces.Build(spec).Layout;

    public ParameterTensor this[string name] =>
        tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"The model has no parameter '{name}'.");

    /// <summary>{name}.weight [out, in] and {name}.bias [out], as nn.Linear; the columns or rows mapped where the layer reads or writes an NHWC map.</summary>
    public DenseLayer Dense(string name, int inputs, int outputs, Activation activation, ImageShape? readsMap = null, ImageShape? writesMap = null)
    {
        int w = Add(name + ".weight", [outputs, inputs], inputs,
            readsMap is { } r ? ColumnsFromMap(r, outputs) : writesMap is { } m ? RowsToMap(m, inputs) : null);
        int b = Add(name + ".bias", [outputs], inputs, writesMap is { } map ? RowsToMap(map, 1) : null);
        return new DenseLayer(inputs, outputs, activation, w, b);
    }

    /// <summary>{name}.weight [out, in] (masked), {name}.cond.weight [out, C], {name}.bias [out], as nn.Linear initializes them.</summary>
    public MaskedLayer Masked(string name, int inputs, int outputs, int contextWidth, Activation activation, float[] mask)
    {
        int w = Add(name + ".weight", [outputs, inputs], inputs, mask: mask);
        int v = Add(name + ".cond.weight", [outputs, contextWidth], contextWidth);
        int b = Add(name + ".bias", [outputs], inputs);
        return new MaskedLayer(inputs, outputs, contextWidth, activation, w, v, b);
    }

    /// <summary>Conv2d: weight [Co, Ci, K, K] in PyTorch, kept as [Co, K, K, Ci]; fan-in Ci·K².</summary>
    public (int Weight, int Bias) Conv(string name, ConvLayerSpec l, int inChannels, int outChannels) =>
        Kernel(name, outChannels, inChannels, l.Kernel, outChannels, fanIn: inChannels * l.Kernel * l.Kernel);

    /// <summary>ConvTranspose2d: weight [Ci, Co, K, K] in PyTorch, kept as [Ci, K, K, Co]; fan-in Co·K² (PyTorch's, from dimension 1).</summary>
    public (int Weight, int Bias) ConvTranspose(string name, ConvLayerSpec l, int inChannels, int outChannels) =>
        Kernel(name, inChannels, outChannels, l.Kernel, outChannels, fanIn: outChannels * l.Kernel * l.Kernel);

    /// <summary>A weight [outer, inner, K, K] kept as [outer, K, K, inner] (the column matrix's order), and a bias.</summary>
    (int Weight, int Bias) Kernel(string name, int outer, int inner, int kernel, int biasLength, int fanIn)
    {
        int taps = kernel * kernel;
        int w = Add(name + ".weight", [outer, inner, kernel, kernel], fanIn, i =>
        {
            int o = i / (taps * inner), rest = i % (taps * inner), tap = rest / inner, n = rest % inner;
            return (o * inner + n) * taps + tap;
        });
        return (w, Add(name + ".bias", [biasLength], fanIn));
    }

    /// <summary>Weight [rows, H·W·C] kept with its columns in NHWC order; PyTorch's flatten puts them in C, H, W order.</summary>
    public static Func<int, int>? ColumnsFromMap(ImageShape? map, int rows) => map is not { } m ? null : i =>
    {
        int row = i / m.Size, column = i % m.Size, pixel = column / m.Channels, channel = column % m.Channels;
        return row * m.Size + channel * m.Pixels + pixel;
    };

    /// <summary>Weight [H·W·C, columns] (or a bias, one column) kept with its rows in NHWC order.</summary>
    static Func<int, int> RowsToMap(ImageShape m, int columns) => i =>
    {
        int row = i / columns, column = i % columns, pixel = row / m.Channels, channel = row % m.Channels;
        return (channel * m.Pixels + pixel) * columns + column;
    };

    /// <summary>Registers one tensor at the end of the buffer; returns its offset.</summary>
    public int Add(string name, int[] shape, int fanIn, Func<int, int>? fileIndex = null, float[]? mask = null, float? constant = null)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        if (Count + length > int.MaxValue)
            throw new ArgumentException($"The model would have more than {int.MaxValue} parameters (at {name}); kernels index them with 32-bit integers. Use smaller layers.");
        var t = new ParameterTensor(name, shape, Count, fanIn, fileIndex, mask, constant);
        tensors.Add(t);
        Count += (int)length;
        return t.Offset;
    }
}
