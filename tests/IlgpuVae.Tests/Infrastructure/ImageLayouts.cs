using IlgpuVae.Model;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>Batches of images between NCHW (the references' layout) and the layout a layer keeps: NCHW or NHWC.</summary>
internal static class ImageLayouts
{
    /// <summary>Index of (b, c, pixel) in a batch of <paramref name="s"/> images, channels last or not.</summary>
    public static int Index(int b, int c, int pixel, ImageShape s, bool channelsLast) =>
        channelsLast ? (b * s.Pixels + pixel) * s.Channels + c : (b * s.Channels + c) * s.Pixels + pixel;

    public static float[] ToLayout(double[] nchw, int batch, ImageShape s, bool channelsLast)
    {
        var r = new float[nchw.Length];
        for (int b = 0; b < batch; b++)
            for (int ch = 0; ch < s.Channels; ch++)
                for (int p = 0; p < s.Pixels; p++)
                    r[Index(b, ch, p, s, channelsLast)] = (float)nchw[Index(b, ch, p, s, false)];
        return r;
    }

    public static double[] FromLayout(float[] values, int batch, ImageShape s, bool channelsLast)
    {
        var r = new double[batch * s.Size];
        for (int b = 0; b < batch; b++)
            for (int ch = 0; ch < s.Channels; ch++)
                for (int p = 0; p < s.Pixels; p++)
                    r[Index(b, ch, p, s, false)] = values[Index(b, ch, p, s, channelsLast)];
        return r;
    }
}
