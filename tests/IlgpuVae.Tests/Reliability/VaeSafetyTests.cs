using System.Reflection;
using IlgpuVae.Data;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// The library is safe to hold: after Dispose every public member of <see cref="Vae"/> throws ObjectDisposedException
/// (no ILGPU assertion reaches the host), and its inputs are checked as the command line checks them.
/// </summary>
public sealed class VaeSafetyTests
{
    static readonly RunConfig Tiny = new() { Hidden = [8], Latent = 2, BatchSize = 16, Epochs = 1, Device = "cpu", Model = "vae" };

    static ImageSet Images(int count)
    {
        var random = new Random(count);
        return new ImageSet("noise", 6, 5, Enumerable.Range(0, count * 30).Select(_ => random.NextSingle()).ToArray());
    }

    [Fact]
    public void EveryPublicMemberThrowsObjectDisposedExceptionAfterDispose()
    {
        using var temp = new TempFolder();
        var vae = Vae.Train(Images(32), Images(8), Tiny);
        vae.Dispose();
        vae.Dispose(); // a second Dispose does nothing
        var calls = new Dictionary<string, Action>
        {
            [nameof(Vae.Config)] = () => _ = vae.Config,
            [nameof(Vae.Image)] = () => _ = vae.Image,
            [nameof(Vae.LatentDim)] = () => _ = vae.LatentDim,
            [nameof(Vae.Folder)] = () => _ = vae.Folder,
            [nameof(Vae.Stopped)] = () => _ = vae.Stopped,
            [nameof(Vae.Device)] = () => _ = vae.Device,
            [nameof(Vae.Encode)] = () => vae.Encode(new float[30]),
            [nameof(Vae.Codes)] = () => vae.Codes(new float[30]),
            [nameof(Vae.Decode)] = () => vae.Decode(new float[2]),
            [nameof(Vae.DecodeOutput)] = () => vae.DecodeOutput(new float[2]),
            [nameof(Vae.Sample)] = () => vae.Sample(1),
            [nameof(Vae.Evaluate)] = () => vae.Evaluate(Images(4)),
            [nameof(Vae.Save)] = () => vae.Save(temp.File("saved")),
            [nameof(Vae.ExportOnnx)] = () => vae.ExportOnnx(temp.File("onnx")),
        };
        // Every public instance member is called here: a new one must be added (and guarded).
        var members = typeof(Vae).GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m is PropertyInfo || m is MethodInfo { IsSpecialName: false })
            .Select(m => m.Name).Where(n => n != nameof(Vae.Dispose)).Distinct().Order();
        Assert.Equal(members, calls.Keys.Order());
        foreach (var (name, call) in calls)
        {
            var e = Record.Exception(call);
            Assert.True(e is ObjectDisposedException, $"{name} after Dispose threw {e?.GetType().Name ?? "nothing"}: {e?.Message}");
        }
        Assert.False(Directory.Exists(temp.File("saved")));
        Assert.False(Directory.Exists(temp.File("onnx")));
    }

    [Fact]
    public void PixelsOutsideTheUnitRangeNaNCodesAndEmptySetsAreRefused()
    {
        using var vae = Vae.Train(Images(32), Images(8), Tiny);
        foreach (float bad in new[] { 1.5f, -0.1f, float.NaN })
        {
            var pixels = new float[60];
            pixels[37] = bad;
            Assert.Contains("Image 1 has value 7", Assert.Throws<ArgumentException>(() => vae.Encode(pixels)).Message);
            Assert.Contains("outside [0, 1]", Assert.Throws<ArgumentException>(() => vae.Codes(pixels)).Message);
        }
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var codes = new float[] { 0, 0, 0, bad };
            Assert.Contains("Code 1 has value 1", Assert.Throws<ArgumentException>(() => vae.Decode(codes)).Message);
            Assert.Contains("finite", Assert.Throws<ArgumentException>(() => vae.DecodeOutput(codes)).Message);
        }
        Assert.Contains("whole images", Assert.Throws<ArgumentException>(() => vae.Encode(new float[31])).Message);
        Assert.Contains("no values", Assert.Throws<ArgumentException>(() => new ImageSet("empty", 6, 5, [])).Message);
        var outside = Images(4);
        outside.Pixels[3] = 2f;
        Assert.Throws<DataFormatException>(() => vae.Evaluate(outside));
    }
}
