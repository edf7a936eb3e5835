using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// One named parameter tensor inside the flat buffer, named and shaped as PyTorch saves it. <see cref="FileIndex"/>
/// maps an element's index inside the buffer to its index in PyTorch's layout where the two differ (a conv weight
/// kept with its input channels last; a dense layer that reads or writes an NHWC feature map), else null.
/// <see cref="FanIn"/> is what PyTorch's default initialization scales by.
/// </summary>
public sealed record ParameterTensor(string Name, int[] Shape, int Offset, int FanIn, Func<int, int>? FileIndex = null)
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
/// </summary>
public sealed class ParameterLayout
{
    readonly List<ParameterTensor> tensors = [];

    public IReadOnlyList<ParameterTensor> Tensors => tensors;
    public IReadOnlyList<Layer> Encoder { get; }
    public IReadOnlyList<Layer> Decoder { get; }
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

        var decoder = new List<Layer>();
        width = k;
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
        Encoder = encoder;
        Decoder = decoder;
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

    int Add(string name, int[] shape, int fanIn, Func<int, int>? fileIndex = null)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        if (Count + length > int.MaxValue)
            throw new ArgumentException($"The model would have more than {int.MaxValue} parameters (at {name}); kernels index them with 32-bit integers. Use smaller layers.");
        var t = new ParameterTensor(name, shape, Count, fanIn, fileIndex);
        tensors.Add(t);
        Count += (int)length;
        return t.Offset;
    }
}
