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
/// The model's layers and where each parameter lives in the one contiguous parameter buffer (and, at the same
/// offsets, in the gradient and optimizer-state buffers).
///
/// Dense models: encoder.{i}.weight, encoder.{i}.bias, …, then the heads as encoder.mu.weight,
/// encoder.logvar.weight, encoder.mu.bias, encoder.logvar.bias — the two weights and the two biases adjacent, so
/// the heads run as one layer with 2k outputs — then decoder.{i}.*, decoder.out.*.
/// Conv models (<see cref="ModelSpec.Conv"/>): encoder.conv.{i}.* first; then the dense layers as above, the
/// first of which reads the last conv's output flattened (PyTorch flattens C, H, W; the model keeps H, W, C, so
/// that layer's columns are mapped); the decoder's dense layers end with one more, decoder.{n}, to the deepest
/// conv shape (rows mapped the same way), then decoder.deconv.{j}.* and decoder.out.* as transposed convs.
/// An IAF posterior (<see cref="ModelSpec.Flow"/>) adds encoder.context.* (a dense layer beside the heads, on their
/// input) and per step t: flow.{t}.made.{l}.weight, .cond.weight, .bias, then the outputs m and s as one masked
/// layer of 2k: flow.{t}.m.weight, flow.{t}.s.weight, flow.{t}.m.cond.weight, flow.{t}.s.cond.weight,
/// flow.{t}.m.bias, flow.{t}.s.bias. A MADE decoder (<see cref="DecoderKind.Made"/>) is decoder.made.{l}.* and
/// decoder.out.*, each weight, cond.weight (z's) and bias. Masks follow <see cref="Made"/>.
/// </summary>
internal sealed class ParameterLayout
{
    readonly List<ParameterTensor> tensors = [];

    public IReadOnlyList<ParameterTensor> Tensors => tensors;
    public IReadOnlyList<Layer> Encoder { get; }
    public IReadOnlyList<Layer> Decoder { get; }
    /// <summary>An IAF posterior's context layer (on the heads' input), else null.</summary>
    public DenseLayer? Context { get; }
    /// <summary>An IAF posterior's steps, each a MADE whose last layer outputs [m | s]; empty for a Gaussian posterior.</summary>
    public IReadOnlyList<IReadOnlyList<MaskedLayer>> Flow { get; }
    /// <summary>Whether any tensor is masked, so the model keeps a mask buffer.</summary>
    public bool HasMasks => tensors.Any(t => t.Mask is not null);
    public int Count { get; private set; }

    public ParameterLayout(ModelSpec spec)
    {
        var act = spec.Activation;
        int k = spec.LatentDim;
        var encoder = new List<Layer>();
        int width = spec.InputDim;
        ImageShape? featureMap = null; // the NHWC map a dense layer reads (encoder) or writes (decoder), if any
        if (spec.Conv is { } conv)
        {
            var shape = conv.Image;
            var shapes = conv.Shapes();
            for (int i = 0; i < conv.Layers.Count; i++)
            {
                var (w, b) = AddConv($"encoder.conv.{i}", conv.Layers[i], shape.Channels, shapes[i].Channels);
                // The data's images are NCHW; with one channel that is NHWC as well.
                encoder.Add(new Conv2dLayer(shape, shapes[i], conv.Layers[i], act, i > 0 || shape.Channels == 1, w, b));
                shape = shapes[i];
            }
            featureMap = shape;
            width = shape.Size;
        }
        for (int i = 0; i < spec.EncoderHidden.Count; i++)
        {
            encoder.Add(AddDense($"encoder.{i}", width, spec.EncoderHidden[i], act, readsMap: i == 0 ? featureMap : null));
            width = spec.EncoderHidden[i];
        }
        var headsMap = spec.EncoderHidden.Count == 0 ? featureMap : null;
        int muWeight = Add("encoder.mu.weight", [k, width], width, ColumnsFromMap(headsMap, k));
        Add("encoder.logvar.weight", [k, width], width, ColumnsFromMap(headsMap, k));
        int muBias = Add("encoder.mu.bias", [k], width);
        Add("encoder.logvar.bias", [k], width);
        encoder.Add(new DenseLayer(width, 2 * k, Activation.Identity, muWeight, muBias));
        var flow = new List<IReadOnlyList<MaskedLayer>>();
        if (spec.Flow is { } f)
        {
            Context = AddDense("encoder.context", width, f.ContextDim, Activation.Identity, readsMap: headsMap);
            for (int t = 0; t < f.Steps; t++)
                flow.Add(AddFlowStep(t, k, f, act));
        }
        Flow = flow;

        Decoder = spec.Decoder == DecoderKind.Made
            ? AddMade("decoder.made", "decoder.out", Made.InputDegrees(spec.InputDim, reversed: false), spec.DecoderHidden, k, act)
            : AddDenseDecoder(spec, act);
        Encoder = encoder;
    }

    /// <summary>decoder.{i} on z, then decoder.out — or, for a conv model, one more dense layer and the transposed convs.</summary>
    List<Layer> AddDenseDecoder(ModelSpec spec, Activation act)
    {
        var decoder = new List<Layer>();
        int width = spec.LatentDim;
        for (int i = 0; i < spec.DecoderHidden.Count; i++)
        {
            decoder.Add(AddDense($"decoder.{i}", width, spec.DecoderHidden[i], act));
            width = spec.DecoderHidden[i];
        }
        if (spec.Conv is { } c)
        {
            var deepest = c.Deepest;
            decoder.Add(AddDense($"decoder.{spec.DecoderHidden.Count}", width, deepest.Size, act, writesMap: deepest));
            var mirror = c.Mirror();
            for (int j = 0; j < mirror.Count; j++)
            {
                var (input, output, layer, _, _) = mirror[j];
                bool last = j == mirror.Count - 1;
                var (w, b) = AddConvTranspose(last ? "decoder.out" : $"decoder.deconv.{j}", layer, input.Channels, output.Channels);
                decoder.Add(new ConvTranspose2dLayer(input, output, layer, last ? Activation.Identity : act,
                    !last || output.Channels == 1, w, b));
            }
        }
        else
            decoder.Add(AddDense("decoder.out", width, spec.InputDim, Activation.Identity));
        return decoder;
    }

    /// <summary>
    /// A MADE over inputs of the given degrees with a context of <paramref name="contextWidth"/>: masked layers
    /// {hidden}.{l} of the given widths, then {output} back to one output per input, with no activation.
    /// </summary>
    List<Layer> AddMade(string hidden, string output, int[] degrees, IReadOnlyList<int> widths, int contextWidth, Activation act)
    {
        var masks = Made.Masks(degrees, widths);
        var layers = new List<Layer>();
        int width = degrees.Length;
        for (int l = 0; l < widths.Count; l++)
        {
            layers.Add(AddMasked($"{hidden}.{l}", width, widths[l], contextWidth, act, masks[l]));
            width = widths[l];
        }
        layers.Add(AddMasked(output, width, degrees.Length, contextWidth, Activation.Identity, masks[^1]));
        return layers;
    }

    /// <summary>
    /// Flow step <paramref name="t"/>: a MADE over the k dims of z (their order reversed in odd steps) with the
    /// encoder's context, whose last layer is m and s side by side ([2k] outputs, rows m then s, sharing the output mask).
    /// </summary>
    IReadOnlyList<MaskedLayer> AddFlowStep(int t, int k, FlowSpec f, Activation act)
    {
        var degrees = Made.InputDegrees(k, reversed: t % 2 == 1);
        var masks = Made.Masks(degrees, f.Hidden, outputBlocks: 2);
        var layers = new List<MaskedLayer>();
        int width = k;
        for (int l = 0; l < f.Hidden.Count; l++)
        {
            layers.Add(AddMasked($"flow.{t}.made.{l}", width, f.Hidden[l], f.ContextDim, act, masks[l]));
            width = f.Hidden[l];
        }
        var outMask = masks[^1];
        int half = k * width;
        int w = Add($"flow.{t}.m.weight", [k, width], width, mask: outMask[..half]);
        Add($"flow.{t}.s.weight", [k, width], width, mask: outMask[half..]);
        int v = Add($"flow.{t}.m.cond.weight", [k, f.ContextDim], f.ContextDim);
        Add($"flow.{t}.s.cond.weight", [k, f.ContextDim], f.ContextDim);
        int b = Add($"flow.{t}.m.bias", [k], width);
        // PyTorch's IAF starts σ = sigmoid(s) near 0.73 so the first steps stay close to z₀ (Kingma et al., 2016).
        Add($"flow.{t}.s.bias", [k], width, constant: 1f);
        layers.Add(new MaskedLayer(width, 2 * k, f.ContextDim, Activation.Identity, w, v, b));
        return layers;
    }

    /// <summary>{name}.weight [out, in] (masked), {name}.cond.weight [out, C], {name}.bias [out], as nn.Linear initializes them.</summary>
    MaskedLayer AddMasked(string name, int inputs, int outputs, int contextWidth, Activation activation, float[] mask)
    {
        int w = Add(name + ".weight", [outputs, inputs], inputs, mask: mask);
        int v = Add(name + ".cond.weight", [outputs, contextWidth], contextWidth);
        int b = Add(name + ".bias", [outputs], inputs);
        return new MaskedLayer(inputs, outputs, contextWidth, activation, w, v, b);
    }

    public ParameterTensor this[string name] =>
        tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"The model has no parameter '{name}'.");

    DenseLayer AddDense(string name, int inputs, int outputs, Activation activation, ImageShape? readsMap = null, ImageShape? writesMap = null)
    {
        int w = Add(name + ".weight", [outputs, inputs], inputs,
            readsMap is { } r ? ColumnsFromMap(r, outputs) : writesMap is { } m ? RowsToMap(m, inputs) : null);
        int b = Add(name + ".bias", [outputs], inputs, writesMap is { } map ? RowsToMap(map, 1) : null);
        return new DenseLayer(inputs, outputs, activation, w, b);
    }

    /// <summary>Conv2d: weight [Co, Ci, K, K] in PyTorch, kept as [Co, K, K, Ci]; fan-in Ci·K².</summary>
    (int Weight, int Bias) AddConv(string name, ConvLayerSpec l, int inChannels, int outChannels) =>
        AddKernel(name, outChannels, inChannels, l.Kernel, outChannels, fanIn: inChannels * l.Kernel * l.Kernel);

    /// <summary>ConvTranspose2d: weight [Ci, Co, K, K] in PyTorch, kept as [Ci, K, K, Co]; fan-in Co·K² (PyTorch's, from dimension 1).</summary>
    (int Weight, int Bias) AddConvTranspose(string name, ConvLayerSpec l, int inChannels, int outChannels) =>
        AddKernel(name, inChannels, outChannels, l.Kernel, outChannels, fanIn: outChannels * l.Kernel * l.Kernel);

    /// <summary>A weight [outer, inner, K, K] kept as [outer, K, K, inner] (the column matrix's order), and a bias.</summary>
    (int Weight, int Bias) AddKernel(string name, int outer, int inner, int kernel, int biasLength, int fanIn)
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
    static Func<int, int>? ColumnsFromMap(ImageShape? map, int rows) => map is not { } m ? null : i =>
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

    int Add(string name, int[] shape, int fanIn, Func<int, int>? fileIndex = null, float[]? mask = null, float? constant = null)
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
