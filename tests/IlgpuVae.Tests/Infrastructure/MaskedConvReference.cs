using IlgpuVae.Model;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// A masked conditional conv in double, from its definition: stride 1, zero padding r = (K − 1)/2, NCHW images,
/// PyTorch's weight [Co, Ci, K, K] (its masked entries already zero), V [Co, Z], b [Co], z [B, Z]:
///   pre[b, o, y, x] = b[o] + Σ_j V[o, j]·z[b, j] + Σ_{i, ky, kx} W[o, i, ky, kx]·x[b, i, y + ky − r, x + kx − r].
/// </summary>
internal sealed record MaskedConvShape(int Batch, ImageShape Input, int OutChannels, int Kernel, int Latent)
{
    public ImageShape Output => Input with { Channels = OutChannels };
    public int WeightLength => OutChannels * Input.Channels * Kernel * Kernel;

    /// <summary>Calls <paramref name="visit"/>(input index, output index, weight index) for every term of the sum over taps.</summary>
    void ForEachTap(Action<int, int, int> visit)
    {
        var (i, k) = (Input, Kernel);
        int r = k / 2;
        for (int b = 0; b < Batch; b++)
            for (int o = 0; o < OutChannels; o++)
                for (int y = 0; y < i.Height; y++)
                    for (int x = 0; x < i.Width; x++)
                        for (int c = 0; c < i.Channels; c++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = y + ky - r, ix = x + kx - r;
                                    if (iy < 0 || iy >= i.Height || ix < 0 || ix >= i.Width) continue;
                                    visit(((b * i.Channels + c) * i.Height + iy) * i.Width + ix, ((b * OutChannels + o) * i.Height + y) * i.Width + x,
                                        ((o * i.Channels + c) * k + ky) * k + kx);
                                }
    }

    /// <summary>Element (b, o, pixel) of the NCHW output → (b, o).</summary>
    (int B, int O) ImageAndChannel(int outputIndex) => (outputIndex / Output.Size, outputIndex / Input.Pixels % OutChannels);

    public double[] Pre(double[] x, double[] w, double[] v, double[] bias, double[] z)
    {
        var pre = new double[Batch * Output.Size];
        for (int e = 0; e < pre.Length; e++)
        {
            var (b, o) = ImageAndChannel(e);
            pre[e] = bias[o];
            for (int j = 0; j < Latent; j++) pre[e] += v[o * Latent + j] * z[b * Latent + j];
        }
        ForEachTap((xi, yi, wi) => pre[yi] += w[wi] * x[xi]);
        return pre;
    }

    /// <summary>∂L/∂x, ∂L/∂W, ∂L/∂V, ∂L/∂b, ∂L/∂z from dPre = ∂L/∂pre (NCHW).</summary>
    public (double[] Dx, double[] Dw, double[] Dv, double[] Db, double[] Dz) Backward(double[] x, double[] w, double[] v, double[] z, double[] dPre)
    {
        var (dx, dw, dv, db, dz) = (new double[x.Length], new double[w.Length], new double[v.Length], new double[OutChannels], new double[z.Length]);
        for (int e = 0; e < dPre.Length; e++)
        {
            var (b, o) = ImageAndChannel(e);
            db[o] += dPre[e];
            for (int j = 0; j < Latent; j++)
            {
                dv[o * Latent + j] += dPre[e] * z[b * Latent + j];
                dz[b * Latent + j] += dPre[e] * v[o * Latent + j];
            }
        }
        ForEachTap((xi, yi, wi) =>
        {
            dx[xi] += dPre[yi] * w[wi];
            dw[wi] += dPre[yi] * x[xi];
        });
        return (dx, dw, dv, db, dz);
    }

    /// <summary>A weight in PyTorch's layout → the layer's kept [K, K, Ci, Co] (<see cref="PixelCnn.FileIndex"/>).</summary>
    public float[] Kept(double[] file)
    {
        var index = PixelCnn.FileIndex(Kernel, Input.Channels, OutChannels);
        return Enumerable.Range(0, file.Length).Select(i => (float)file[index(i)]).ToArray();
    }

    /// <summary>A weight kept as [K, K, Ci, Co] → PyTorch's layout.</summary>
    public double[] File(float[] kept)
    {
        var index = PixelCnn.FileIndex(Kernel, Input.Channels, OutChannels);
        var file = new double[kept.Length];
        for (int i = 0; i < kept.Length; i++) file[index(i)] = kept[i];
        return file;
    }
}
