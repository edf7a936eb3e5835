using System.Text.Json;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Verification;

namespace IlgpuVae.Tests.Golden;

/// <summary>
/// The PixelCNN decoder's layer stack alone against PyTorch's (the golden test checks the whole model on the same
/// fixtures): the fixtures tests/golden/pixelcnn_*.json (written by make_fixtures.py --pixelcnn) give the decoder's
/// parameters, x and z; the stack built from the fixture's shape has the same tensors and masks, and its
/// output and its parameters' gradients (from the likelihood's gradient of the fixture's loss) match PyTorch's to the
/// golden tolerance, on every accelerator and GPU launch shape.
/// </summary>
public sealed class PixelCnnFixtureTests
{
    static string Folder => GoldenFolders.RepositoryFolder;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (var file in Directory.GetFiles(Folder, "pixelcnn_*.json").Order())
                data.Add(device, Path.GetFileName(file));
        return data;
    }

    static double[] Values(JsonElement e) => GoldenFixture.Tensor(e).Data;

    /// <summary>A tensor in PyTorch's layout, as the layout keeps it.</summary>
    static float[] Kept(ParameterTensor t, JsonElement e)
    {
        var (shape, data) = GoldenFixture.Tensor(e);
        Assert.Equal(t.Shape, shape);
        return Enumerable.Range(0, t.Length).Select(i => (float)data[t.FileIndex?.Invoke(i) ?? i]).ToArray();
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void TheDecoderMatchesPyTorchs(string device, string fixture)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, fixture)));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        var image = model.GetProperty("image").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        int Int(string key) => model.GetProperty(key).GetInt32();
        var spec = new PixelCnnSpec(new ImageShape(image[0], image[1], image[2]), Int("pixelcnn_channels"), Int("pixelcnn_layers"),
            Int("pixelcnn_kernel"), Int("pixelcnn_first_kernel"));
        var layout = new PixelCnnLayout(spec, Int("latent_dim"), SettingNames.Activation(model.GetProperty("activation").GetString()!), 0);
        var (parameters, expected, masks) = (root.GetProperty("params"), root.GetProperty("expected"), root.GetProperty("masks"));
        Assert.Equal(layout.Tensors.Select(t => t.Name).Order(), parameters.EnumerateObject().Select(p => p.Name).Where(n => n.StartsWith("decoder.")).Order());
        foreach (var t in layout.Tensors.Where(t => t.Mask is not null))
            Assert.Equal(t.Mask, Kept(t, masks.GetProperty(t.Name)));

        var x = Values(root.GetProperty("x")).Select(v => (float)v).ToArray();
        int batch = x.Length / spec.Image.Size;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var rig = new PixelCnnRig(d, layout, batch, layout.Tensors.SelectMany(t => Kept(t, parameters.GetProperty(t.Name))).ToArray(),
            Values(expected.GetProperty("z")).Select(v => (float)v).ToArray());
        var xView = d.Upload(x);
        Tolerance.AssertClose(rig.Forward(xView), Values(expected.GetProperty("decoder_out")), GoldenCheck.Tolerance, $"{fixture} decoder_out");

        // The loss's gradient at the output is the likelihood's (the KL and MMD terms do not reach the decoder's parameters).
        var likelihood = SettingNames.Likelihood(model.GetProperty("likelihood").GetString()!);
        float obsLogVar = model.TryGetProperty("obs_log_var", out var s) ? s.GetSingle() : 0f;
        var (nll, dOutput) = (d.Doubles(batch), d.Floats(batch * spec.Image.Size));
        d.Device.Kernels.Likelihood(likelihood, obsLogVar, batch, spec.Image.Size, 1f / batch, rig.Output, xView, nll, dOutput);
        Tolerance.AssertNear(DeviceArrays.Download(nll).Average(), expected.GetProperty("recon").GetDouble(), GoldenCheck.Tolerance, 0, $"{fixture} recon");
        rig.Backward(xView, dOutput);
        var gradients = DeviceArrays.Download(rig.Gradients);
        var grads = expected.GetProperty("grads");
        foreach (var t in layout.Tensors)
            Tolerance.AssertClose(gradients.AsSpan(t.Offset, t.Length), Kept(t, grads.GetProperty(t.Name)).Select(v => (double)v).ToArray(),
                GoldenCheck.Tolerance, $"{fixture} ∂loss/∂{t.Name}");
    }
}
