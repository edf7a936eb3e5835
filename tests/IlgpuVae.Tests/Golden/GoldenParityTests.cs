using ILGPU.Runtime;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Golden;

/// <summary>
/// Every fixture in the golden folder, on every accelerator this run can create: the forward values, the
/// four loss terms and every parameter's gradient match PyTorch's float64 autograd to 1e-4 (norm-wise).
/// A folder without fixtures is a failure.
/// </summary>
public sealed class GoldenParityTests
{
    const double Tol = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        var folder = GoldenFixture.Folder();
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.json").Order().ToArray() : [];
        foreach (var file in files)
            foreach (var device in TestDevices.Names)
                data.Add(Path.GetFileName(file), device);
        if (files.Length == 0)
            data.Add($"(no *.json fixture in {folder})", "cpu");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string fixture, string device)
    {
        var path = Path.Combine(GoldenFixture.Folder(), fixture);
        Assert.True(File.Exists(path), $"No golden fixture: {path}. Set GOLDEN_DIR to the fixtures' folder.");
        var f = GoldenFixture.Load(path);
        int batch = f.X.Rows;
        using var model = new VaeModel(TestDevices.Get(device), f.Model, batch, f.PriorZ.Rows);
        model.LoadTensors(f.Parameters.ToDictionary(p => p.Key, p => (p.Value.Shape, ToFloat(p.Value.Data))), f.Name);
        model.Input.SubView(0, f.X.Data.Length).CopyFromCPU(ToFloat(f.X.Data));
        model.Epsilon.SubView(0, f.Eps.Length).CopyFromCPU(ToFloat(f.Eps));
        model.Prior.SubView(0, f.PriorZ.Data.Length).CopyFromCPU(ToFloat(f.PriorZ.Data));

        var terms = model.Run(f.Objective, batch, backward: true);

        var e = f.Expected;
        int k = f.Model.LatentDim;
        var heads = Read(model.Heads, batch * 2 * k);
        Tolerance.AssertClose(Columns(heads, batch, 2 * k, 0, k), Want(e, "mu"), Tol, "mu");
        Tolerance.AssertClose(Columns(heads, batch, 2 * k, k, k), Want(e, "logvar"), Tol, "logvar");
        Tolerance.AssertClose(Read(model.Z, batch * k), Want(e, "z"), Tol, "z");
        Tolerance.AssertClose(Read(model.DecoderOutput, batch * f.Model.InputDim), Want(e, "decoder_out"), Tol, "decoder_out");
        AssertScalar(terms.Recon, e.GetProperty("recon").GetDouble(), "recon");
        AssertScalar(terms.Kl, e.GetProperty("kl").GetDouble(), "kl");
        AssertScalar(terms.Mmd, e.GetProperty("mmd").GetDouble(), "mmd");
        AssertScalar(terms.Loss, e.GetProperty("loss").GetDouble(), "loss");

        var grads = e.GetProperty("grads");
        foreach (var (tensor, data) in model.ReadTensors(gradientsInstead: true))
        {
            var (shape, want) = GoldenFixture.Tensor(grads.GetProperty(tensor.Name));
            Assert.Equal(tensor.Shape, shape);
            Tolerance.AssertClose(data, want, Tol, $"grad {tensor.Name}");
        }
    }

    static void AssertScalar(double got, double want, string what)
    {
        double error = Math.Abs(got - want) / Math.Max(Math.Abs(want), 1e-6);
        Assert.True(error <= Tol, $"{what}: got {got:R}, want {want:R} (relative error {error:E3}).");
    }

    static double[] Want(System.Text.Json.JsonElement e, string name) => GoldenFixture.Tensor(e.GetProperty(name)).Data;

    static float[] Read(ILGPU.ArrayView<float> view, int n)
    {
        var host = new float[n];
        view.SubView(0, n).CopyToCPU(host);
        return host;
    }

    static float[] Columns(float[] m, int rows, int width, int start, int count)
    {
        var r = new float[rows * count];
        for (int i = 0; i < rows; i++)
            Array.Copy(m, i * width + start, r, i * count, count);
        return r;
    }

    static float[] ToFloat(double[] d) => Array.ConvertAll(d, v => (float)v);
}
