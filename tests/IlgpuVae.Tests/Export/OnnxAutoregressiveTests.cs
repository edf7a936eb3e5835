using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Export;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Export;

/// <summary>
/// The autoregressive models exported: a MADE decoder's decoder.onnx (z and x → every conditional's logits or
/// means) and an IAF posterior's encoder.onnx (mu, logvar, context) and flow.onnx (mu, logvar, context, eps → z,
/// log_q), run by ONNX Runtime, give what the ILGPU model's own kernels give within 1e-5 norm-wise, as does a PixelCNN
/// decoder's (masked Conv nodes, every conditional in one pass); the exported MADE and PixelCNN decoders are autoregressive; an existing flow.onnx is refused with nothing written.
/// </summary>
public sealed class OnnxAutoregressiveTests(ITestOutputHelper log)
{
    public static TheoryData<string, string> Cases() => TestDevices.Cross(Specs.Keys);

    static readonly Dictionary<string, ModelSpec> Specs = new()
    {
        ["made relu bernoulli"] = new ModelSpec(6, [5], 2, [7, 5], Decoder: DecoderKind.Made),
        ["made tanh gaussian no hidden"] = new ModelSpec(5, [4], 3, [], Activation.Tanh, Likelihood.Gaussian, -0.5f, Decoder: DecoderKind.Made),
        ["iaf 2 steps tanh"] = new ModelSpec(6, [5], 3, [5], Activation.Tanh, Flow: new FlowSpec(2, [6, 4], 2)),
        ["iaf 3 steps leaky, made gaussian, no encoder hidden"] = new ModelSpec(7, [], 4, [6], Activation.LeakyRelu, Likelihood.Gaussian, 0.3f,
            Decoder: DecoderKind.Made, Flow: new FlowSpec(3, [5], 3)),
        ["conv 2×4×3 softplus, iaf, made"] = new ModelSpec(24, [], 2, [6], Activation.Softplus,
            Conv: new ConvSpec(new ImageShape(2, 4, 3), [new ConvLayerSpec(3, 3, 2, 1)]), Decoder: DecoderKind.Made, Flow: new FlowSpec(2, [4], 3)),
        ["pixelcnn grey 5×6 relu bernoulli"] = PixelCnnSpec(new ImageShape(1, 5, 6), Activation.Relu, Likelihood.Bernoulli, channels: 4, layers: 2, kernel: 3, first: 5),
        ["conv rgb 3×4×5, pixelcnn tanh gaussian, iaf"] = PixelCnnSpec(new ImageShape(3, 4, 5), Activation.Tanh, Likelihood.Gaussian, channels: 5, layers: 1, kernel: 5, first: 3,
            conv: true, flow: new FlowSpec(1, [4], 2)),
    };

    /// <summary>A model with a PixelCNN decoder over <paramref name="image"/>: a dense encoder of 6, or one stride-2 conv of 3 channels.</summary>
    static ModelSpec PixelCnnSpec(ImageShape image, Activation activation, Likelihood likelihood, int channels, int layers, int kernel, int first,
        bool conv = false, FlowSpec? flow = null) =>
        new(image.Size, conv ? [] : [6], 3, [], activation, likelihood, -0.4f,
            Conv: conv ? new ConvSpec(image, [new ConvLayerSpec(3, 3, 2, 1)]) : null, Decoder: DecoderKind.PixelCnn, Flow: flow,
            DecoderOptions: new PixelCnnSpec(image, channels, layers, kernel, first));

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeMatchesTheModel(string name, string device)
    {
        var spec = Specs[name];
        const int n = 4;
        int d = spec.InputDim, k = spec.LatentDim;
        using var model = new VaeModel(TestDevices.Get(device), spec, n);
        model.Initialize(seed: 11);
        var random = new Random(name.Length);
        var x = TestData.Uniform(random, n * d, 0, 1);
        var eps = TestData.Normal(random, n * k);
        var z = TestData.Normal(random, n * k);

        // The model's own forward: the encoder with the given ε (and the flow's steps), then the decoder on the given z (and x).
        model.Input.SubView(0, n * d).CopyFromCPU(x);
        model.Epsilon.SubView(0, n * k).CopyFromCPU(eps);
        model.Encode(n);
        var heads = Read(model.Heads, n * 2 * k);
        var mu = Enumerable.Range(0, n * k).Select(i => heads[i / k * 2 * k + i % k]).ToArray();
        var logVar = Enumerable.Range(0, n * k).Select(i => heads[i / k * 2 * k + k + i % k]).ToArray();
        int c = spec.Flow?.ContextDim ?? 0;
        var context = Read(model.Context, n * c);
        var codes = Read(model.Z, n * k);
        var kl = new double[n * k];
        model.KlTerms.SubView(0, n * k).CopyToCPU(kl);
        model.Z.SubView(0, n * k).CopyFromCPU(z);
        model.Decode(n);
        var output = Read(model.DecoderOutput, n * d);

        using var temp = new TempFolder();
        var written = OnnxExport.Write(model, temp.Path);
        var files = spec.Flow is null ? new[] { OnnxExport.EncoderFile, OnnxExport.DecoderFile } : [OnnxExport.EncoderFile, OnnxExport.DecoderFile, OnnxExport.FlowFile];
        Assert.Equal(files.Select(temp.File), written);
        Assert.Equal(files.Order(), Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order());

        int[] imageDims = spec.Conv is { Image: var image } ? [n, image.Channels, image.Height, image.Width] : [n, d];
        int[] codeDims = [n, k];
        var encoded = Run(temp.File(OnnxExport.EncoderFile), ("x", x, imageDims));
        Check(encoded["mu"], mu, codeDims, "mu");
        Check(encoded["logvar"], logVar, codeDims, "logvar");
        if (spec.Flow is null) Assert.False(encoded.ContainsKey("context"));
        else Check(encoded["context"], context, [n, c], "context");

        var decoderInputs = model.Decoder.ReadsInput ? new[] { ("z", z, codeDims), ("x", x, imageDims) } : [("z", z, codeDims)];
        var decoded = Run(temp.File(OnnxExport.DecoderFile), decoderInputs);
        Check(decoded[OnnxExport.OutputName(spec.Likelihood)], output, imageDims, "decoder output");

        if (spec.Flow is null) return;
        // log q(z_T|x) from the model's KL elements, log q − log p per element: add back log p(z_T).
        var logQ = Enumerable.Range(0, n).Select(r => Enumerable.Range(r * k, k)
            .Sum(i => kl[i] - 0.5 * codes[i] * (double)codes[i]) - 0.5 * k * Math.Log(2 * Math.PI)).ToArray();
        var flowed = Run(temp.File(OnnxExport.FlowFile), ("mu", mu, codeDims), ("logvar", logVar, codeDims), ("context", context, [n, c]), ("eps", eps, codeDims));
        Check(flowed["z"], codes, codeDims, "flow z");
        Assert.Equal([n], flowed["log_q"].Dims);
        double error = Tolerance.RelativeNormError(flowed["log_q"].Data, logQ);
        log.WriteLine($"{name}: log_q relative error {error:E2}");
        Assert.True(error <= 1e-5, $"log_q: relative error {error:E3}");
        // The encoder's outputs chained into the flow give the same codes.
        var chained = Run(temp.File(OnnxExport.FlowFile), ("mu", encoded["mu"].Data, codeDims), ("logvar", encoded["logvar"].Data, codeDims),
            ("context", encoded["context"].Data, [n, c]), ("eps", eps, codeDims));
        Check(chained["z"], codes, codeDims, "encoder and flow chained");
    }

    public static TheoryData<string> AutoregressiveDecoders() => ["made", "pixelcnn grey", "pixelcnn rgb"];

    /// <summary>
    /// Through ONNX Runtime, the output for the value drawn p-th is unchanged by any change of the values drawn p-th,
    /// (p + 1)-th, …, and changes with earlier ones: pixels in raster order for the MADE; for the PixelCNN, pixels in
    /// raster order and the colours in turn within a pixel.
    /// </summary>
    [Theory]
    [MemberData(nameof(AutoregressiveDecoders))]
    public void TheExportedDecoderIsAutoregressive(string decoder)
    {
        var image = new ImageShape(decoder == "pixelcnn rgb" ? 3 : 1, 3, 4);
        var spec = decoder == "made"
            ? new ModelSpec(7, [4], 2, [9, 6], Activation.Tanh, Decoder: DecoderKind.Made)
            : PixelCnnSpec(image, Activation.Tanh, Likelihood.Bernoulli, channels: 6, layers: 2, kernel: 3, first: 3);
        // The value drawn p-th: the MADE's order is the flattened one, the PixelCNN's pixel-major.
        Func<int, int> valueAt = decoder == "made" ? p => p : p => PixelCnn.ValueAt(p, image);
        const int n = 3;
        int d = spec.InputDim;
        using var model = new VaeModel(TestDevices.Get("cpu"), spec, n);
        model.Initialize(seed: 5);
        using var temp = new TempFolder();
        OnnxExport.Write(model, temp.Path);
        using var session = new InferenceSession(temp.File(OnnxExport.DecoderFile));
        var random = new Random(3);
        var z = TestData.Normal(random, n * spec.LatentDim);
        var x = TestData.Uniform(random, n * d, 0, 1);
        float[] Logits(float[] pixels) => Run(session, ("z", z, [n, spec.LatentDim]), ("x", pixels, [n, d]))["logits"].Data;
        var before = Logits(x);
        for (int j = 0; j < d; j++)
        {
            var changed = (float[])x.Clone();
            for (int r = 0; r < n; r++)
                for (int p = j; p < d; p++) changed[r * d + valueAt(p)] = random.NextSingle() * 5f - 2f;
            var after = Logits(changed);
            for (int r = 0; r < n; r++)
                for (int p = 0; p <= j; p++)
                {
                    int i = valueAt(p);
                    Assert.True(after[r * d + i] == before[r * d + i], $"logit of value {p} of row {r} changed with values {j}… ({before[r * d + i]} to {after[r * d + i]})");
                }
            if (j < d - 1)
                Assert.Contains(Enumerable.Range(0, n), r => Enumerable.Range(j + 1, d - j - 1).Any(p => after[r * d + valueAt(p)] != before[r * d + valueAt(p)]));
        }
    }

    [Fact]
    public void AnExistingFlowFileIsRefusedAndNothingIsWritten()
    {
        using var model = new VaeModel(TestDevices.Get("cpu"), new ModelSpec(6, [5], 2, [5], Flow: new FlowSpec(1, [4], 3)), 2);
        using var temp = new TempFolder();
        File.WriteAllText(temp.File(OnnxExport.FlowFile), "mine");
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.Write(model, temp.Path));
        Assert.Contains($"{OnnxExport.FlowFile}' already exists", e.Message);
        Assert.Equal([temp.File(OnnxExport.FlowFile)], Directory.GetFiles(temp.Path));
        Assert.Equal("mine", File.ReadAllText(temp.File(OnnxExport.FlowFile)));
    }

    /// <summary>A layer type without ONNX nodes is refused by name (every layer the models build has them).</summary>
    [Fact]
    public void ALayerWithoutABuilderIsRefusedByName()
    {
        using var model = new VaeModel(TestDevices.Get("cpu"), new ModelSpec(4, [], 2, []), 1);
        var graph = new OnnxGraph("test");
        var input = new OnnxValue(graph.Input("x", "N", 4), null);
        var e = Assert.Throws<ArgumentException>(() => new UnknownLayer().Onnx(graph, new OnnxParameters(model), input, null));
        Assert.Equal("ONNX export does not support UnknownLayer layers yet; export a model without them.", e.Message);
    }

    sealed class UnknownLayer() : Layer(4, 4, Activation.Identity, 0, 16, 16)
    {
        public override void Forward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> y) => throw new NotSupportedException();

        public override void Backward(LayerBuffers b, int batch, ArrayView<float> x, ArrayView<float> dPre, Activation inputActivation,
            ArrayView<float>? dInputPre) => throw new NotSupportedException();
    }

    static float[] Read(ArrayView<float> view, int n)
    {
        var host = new float[n];
        if (n > 0) view.SubView(0, n).CopyToCPU(host);
        return host;
    }

    static Dictionary<string, (float[] Data, int[] Dims)> Run(string path, params (string Name, float[] Data, int[] Dims)[] inputs)
    {
        using var session = new InferenceSession(path);
        return Run(session, inputs);
    }

    static Dictionary<string, (float[] Data, int[] Dims)> Run(InferenceSession session, params (string Name, float[] Data, int[] Dims)[] inputs)
    {
        Assert.Equal(inputs.Select(i => i.Name).Order(), session.InputMetadata.Keys.Order());
        using var results = session.Run(inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Dims))).ToList());
        return results.ToDictionary(r => r.Name, r =>
        {
            var tensor = r.AsTensor<float>();
            return (tensor.ToArray(), tensor.Dimensions.ToArray());
        });
    }

    void Check((float[] Data, int[] Dims) got, float[] want, int[] dims, string what)
    {
        Assert.Equal(dims, got.Dims);
        double error = Tolerance.RelativeNormError(got.Data, TestData.ToDouble(want));
        log.WriteLine($"{what}: relative error {error:E2}");
        Assert.True(error <= 1e-5, $"{what}: relative error {error:E3} exceeds 1e-5.");
    }
}
