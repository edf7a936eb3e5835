// Train a VAE on images made here, encode and decode them, save the model, load it back and export it to ONNX.
using IlgpuVae;
using IlgpuVae.Data;
using IlgpuVae.Runs;

// 16×16 grey images of a bright square at a random place: values in [0, 1], one image after another.
static ImageSet Squares(string name, int count, int seed)
{
    const int side = 16, square = 5;
    var random = new Random(seed);
    var pixels = new float[count * side * side];
    for (int i = 0; i < count; i++)
    {
        int top = random.Next(side - square), left = random.Next(side - square);
        for (int y = top; y < top + square; y++)
            for (int x = left; x < left + square; x++)
                pixels[i * side * side + y * side + x] = 1f;
    }
    return new ImageSet(name, side, side, pixels); // unlabelled
}

var train = Squares("squares", 1024, seed: 1);
var test = Squares("squares-test", 128, seed: 2);
var options = new RunConfig { Model = "infovae", Hidden = [128], Latent = 2, Epochs = 30, BatchSize = 32, Lr = 3e-3, Device = "auto" };

// Progress arrives on the training thread, once per step and once per epoch.
var progress = new ProgressPrinter(p =>
{
    if (p.Stage == TrainingStage.EpochCompleted && p.Epoch % 10 == 0)
        Console.WriteLine($"epoch {p.Epoch}/{p.Epochs}: test -ELBO {p.Report!.Test.NegativeElbo:F2}");
});
using var vae = Vae.Train(train, test, options, progress: progress);
Console.WriteLine($"Trained on {vae.Device}.");

// Encode three test images to their posterior means, and decode those back to images.
var images = test.Pixels.AsSpan(0, 3 * vae.Image.Size);
var (mu, logVar) = vae.Encode(images);
var decoded = vae.Decode(mu);
Console.WriteLine($"z of the first image: ({mu[0]:F3}, {mu[1]:F3}), log σ² ({logVar[0]:F3}, {logVar[1]:F3})");
Console.WriteLine($"reconstruction error: {MeanAbsoluteDifference(images, decoded):F4} per pixel");

// Save into a new run folder, load it back: the same weights give the same codes.
string folder = Path.Combine(Path.GetTempPath(), $"ilgpuvae-example-{Guid.NewGuid():N}");
vae.Save(folder);
using var loaded = Vae.Load(folder);
bool same = loaded.Encode(images).Mu.AsSpan().SequenceEqual(mu);
Console.WriteLine($"saved to {folder}; reloaded model gives the same codes: {same}");

// Encoder and decoder as ONNX files, for ONNX Runtime, PyTorch or a browser.
foreach (var file in loaded.ExportOnnx(folder)) Console.WriteLine($"wrote {file}");
var samples = loaded.Sample(8, seed: 3);
Console.WriteLine($"sampled 8 images ({samples.Length} values)");
Directory.Delete(folder, recursive: true);
return same ? 0 : 1;

static double MeanAbsoluteDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
{
    double sum = 0;
    for (int i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
    return sum / a.Length;
}

sealed class ProgressPrinter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
