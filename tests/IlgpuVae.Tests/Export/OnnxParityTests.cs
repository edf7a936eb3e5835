using IlgpuVae.Export;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace IlgpuVae.Tests.Export;

/// <summary>
/// The exported encoder and decoder, run by ONNX Runtime on random inputs, give what the ILGPU model gives —
/// μ, log σ² and the decoder's output within 1e-5 norm-wise — for dense and convolutional models (NCHW in and
/// out, odd and non-square images, several channels, every activation, both likelihoods).
/// </summary>
public sealed class OnnxParityTests
{
    public static TheoryData<string, string> Cases() => TestDevices.Cross(Specs.Keys);

    static readonly Dictionary<string, ModelSpec> Specs = new()
    {
        ["mlp relu bernoulli"] = new ModelSpec(12, [10, 7], 3, [9]),
        ["mlp tanh gaussian no hidden"] = new ModelSpec(11, [], 4, [6], Activation.Tanh, Likelihood.Gaussian, -0.5f),
        ["conv relu 1×7×6"] = Conv(new ImageShape(1, 7, 6), [new ConvLayerSpec(3, 3, 2, 1), new ConvLayerSpec(4, 3, 2, 1)], [8], Activation.Relu),
        ["conv leaky 2×6×5 no hidden"] = Conv(new ImageShape(2, 6, 5), [new ConvLayerSpec(3, 4, 2, 1)], [], Activation.LeakyRelu),
        ["conv softplus 3×5×5 stride 1 gaussian"] = Conv(new ImageShape(3, 5, 5), [new ConvLayerSpec(2, 2, 1, 0)], [5], Activation.Softplus, Likelihood.Gaussian),
    };

    static ModelSpec Conv(ImageShape image, ConvLayerSpec[] layers, int[] hidden, Activation activation, Likelihood likelihood = Likelihood.Bernoulli) =>
        new(image.Size, hidden, 3, [.. hidden.Reverse()], activation, likelihood, 0f, new ConvSpec(image, layers));

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeMatchesTheModel(string name, string device)
    {
        var spec = Specs[name];
        const int count = 5;
        using var model = new VaeModel(TestDevices.Get(device), spec, 4);
        model.Initialize(seed: 7);
        var random = new Random(name.Length);
        var x = Enumerable.Range(0, count * spec.InputDim).Select(_ => random.NextSingle()).ToArray();
        var z = Enumerable.Range(0, count * spec.LatentDim).Select(_ => 2 * random.NextSingle() - 1).ToArray();
        var (mu, logVar, _) = VaeInference.Encode(model, x, count);
        var output = VaeInference.DecodeOutput(model, z, count);

        using var temp = new TempFolder();
        OnnxExport.Write(model, temp.Path);
        int[] imageDims = spec.Conv is { Image: var i } ? [count, i.Channels, i.Height, i.Width] : [count, spec.InputDim];
        var encoded = Run(temp.File(OnnxExport.EncoderFile), "x", x, imageDims);
        var decoded = Run(temp.File(OnnxExport.DecoderFile), "z", z, [count, spec.LatentDim]);

        AssertClose(encoded["mu"], mu, [count, spec.LatentDim], "mu");
        AssertClose(encoded["logvar"], logVar, [count, spec.LatentDim], "logvar");
        AssertClose(decoded[OnnxExport.OutputName(spec.Likelihood)], output, imageDims, "decoder output");
    }

    static Dictionary<string, (float[] Data, int[] Dims)> Run(string path, string input, float[] data, int[] dims)
    {
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, dims))]);
        return results.ToDictionary(r => r.Name, r =>
        {
            var tensor = r.AsTensor<float>();
            return (tensor.ToArray(), tensor.Dimensions.ToArray());
        });
    }

    static void AssertClose((float[] Data, int[] Dims) got, float[] want, int[] dims, string what)
    {
        Assert.Equal(dims, got.Dims);
        Tolerance.AssertClose(got.Data, want.Select(v => (double)v).ToArray(), 1e-5, what);
    }
}
