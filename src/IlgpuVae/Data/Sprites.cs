namespace IlgpuVae.Data;

/// <summary>
/// A deterministic generator of dSprites-like images: one white shape on black, with five independent factors
/// drawn uniformly from grids — shape (square, ellipse, heart), scale (6 values 0.5…1.0), orientation
/// (40 angles 2πk/40 in [0, 2π)), and position x and y (32 values k/31 in [0, 1] each). A shape of scale s
/// fits a circle of radius R = s·0.3·size around its centre, and the centre maps position p to
/// 1 + R + p·(size − 2 − 2R), so the whole shape stays one pixel clear of the frame and the border rows and
/// columns are always 0. Pixels are the covered fraction of a 4×4 grid of samples, so edges are soft.
/// Image i depends only on (seed, i), through SplitMix64 rather than <see cref="Random"/>, whose algorithm is
/// not promised across .NET versions; images are drawn in parallel with the same result.
/// </summary>
internal static class Sprites
{
    public const int ShapeCount = 3, ScaleCount = 6, OrientationCount = 40, PositionCount = 32;

    /// <summary>R / (scale · size): the radius of the circle holding a shape of scale 1, relative to the image side.</summary>
    public const float RadiusFraction = 0.3f;

    const int Samples = 4;
    const float SquareHalfSide = 0.7f; // corners at 0.7·√2 ≈ 0.99 stay inside the unit circle
    const float EllipseMinor = 0.5f;
    // The heart (x² + y² − 1)³ ≤ x²y³ spans x ∈ [−1.14, 1.14], y ∈ [−1, 1.24]; centred on y = 0.25 it fits a
    // circle of radius 1.255, so local coordinates are scaled by 1.26 and shifted to put it in the unit circle.
    const float HeartScale = 1.26f, HeartShift = 0.25f;

    static readonly string[] ShapeNames = ["square", "ellipse", "heart"];
    static readonly string[] FactorNamesList = ["shape", "scale", "orientation", "pos_x", "pos_y"];

    /// <summary>
    /// <paramref name="count"/> images of <paramref name="size"/>² pixels; Labels = shape index,
    /// Factors row = (shape index, scale, angle in radians, pos x, pos y).
    /// </summary>
    public static ImageSet Generate(int count, int seed, int size = 28)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        int dim = size * size, f = FactorNamesList.Length;
        if ((long)count * dim > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} images of {size}² pixels exceed one array.");
        var pixels = new float[count * dim];
        var labels = new int[count];
        var factors = new float[count * f];
        ulong key = Mix((ulong)seed);
        Parallel.For(0, count, i =>
        {
            ulong state = Mix(key + (ulong)i);
            int shape = Draw(ref state, ShapeCount);
            float scale = 0.5f + 0.1f * Draw(ref state, ScaleCount);
            float angle = 2 * MathF.PI * Draw(ref state, OrientationCount) / OrientationCount;
            float posX = Draw(ref state, PositionCount) / (PositionCount - 1f);
            float posY = Draw(ref state, PositionCount) / (PositionCount - 1f);
            labels[i] = shape;
            ReadOnlySpan<float> row = [shape, scale, angle, posX, posY];
            row.CopyTo(factors.AsSpan(i * f, f));
            Render(pixels.AsSpan(i * dim, dim), size, shape, scale, angle, posX, posY);
        });
        return new ImageSet("sprites", size, size, pixels, labels, [.. ShapeNames], factors, [.. FactorNamesList]);
    }

    /// <summary>The number of values on each factor's grid, in the order of the factors' rows.</summary>
    public static IReadOnlyList<int> FactorClassCounts { get; } = [ShapeCount, ScaleCount, OrientationCount, PositionCount, PositionCount];

    /// <summary>
    /// The images of the given factors, <paramref name="classes"/> holding five grid indices per image (shape, scale,
    /// orientation, x, y: each in [0, <see cref="FactorClassCounts"/>)), rendered as <see cref="Generate"/> renders them.
    /// </summary>
    public static float[] Render(ReadOnlySpan<int> classes, int size = 28)
    {
        int f = FactorNamesList.Length, count = classes.Length / f, dim = size * size;
        if (classes.Length % f != 0) throw new ArgumentException($"{classes.Length} factor indices do not make rows of {f}.", nameof(classes));
        for (int i = 0; i < classes.Length; i++)
            if ((uint)classes[i] >= (uint)FactorClassCounts[i % f])
                throw new ArgumentOutOfRangeException(nameof(classes), $"Factor {FactorNamesList[i % f]} of image {i / f} is {classes[i]}, not in [0, {FactorClassCounts[i % f]}).");
        var pixels = new float[count * dim];
        var rows = classes.ToArray();
        Parallel.For(0, count, i =>
        {
            var c = rows.AsSpan(i * f, f);
            Render(pixels.AsSpan(i * dim, dim), size, c[0], 0.5f + 0.1f * c[1], 2 * MathF.PI * c[2] / OrientationCount,
                c[3] / (PositionCount - 1f), c[4] / (PositionCount - 1f));
        });
        return pixels;
    }

    /// <summary>The names of the five factors, in the order of a factor row.</summary>
    public static IReadOnlyList<string> FactorNames => FactorNamesList;

    static void Render(Span<float> image, int size, int shape, float scale, float angle, float posX, float posY)
    {
        float r = scale * RadiusFraction * size;
        float cx = 1 + r + posX * (size - 2 - 2 * r), cy = 1 + r + posY * (size - 2 - 2 * r);
        // Local coordinates in units of R, rotated by −angle; v points up, image rows point down.
        float cos = MathF.Cos(angle) / r, sin = MathF.Sin(angle) / r;
        int x0 = (int)(cx - r), x1 = (int)(cx + r), y0 = (int)(cy - r), y1 = (int)(cy + r);
        for (int py = y0; py <= y1; py++)
            for (int px = x0; px <= x1; px++)
            {
                int hits = 0;
                for (int sy = 0; sy < Samples; sy++)
                    for (int sx = 0; sx < Samples; sx++)
                    {
                        float dx = px + (sx + 0.5f) / Samples - cx, dy = py + (sy + 0.5f) / Samples - cy;
                        float u = cos * dx + sin * dy, v = sin * dx - cos * dy;
                        if (Inside(shape, u, v))
                            hits++;
                    }
                image[py * size + px] = hits / (float)(Samples * Samples);
            }
    }

    static bool Inside(int shape, float u, float v)
    {
        switch (shape)
        {
            case 0:
                return MathF.Abs(u) <= SquareHalfSide && MathF.Abs(v) <= SquareHalfSide;
            case 1:
                float w = v / EllipseMinor;
                return u * u + w * w <= 1;
            default:
                float x = HeartScale * u, y = HeartScale * v + HeartShift, q = x * x + y * y - 1;
                return q * q * q <= x * x * y * y * y;
        }
    }

    /// <summary>A uniform integer in [0, n) from the next SplitMix64 output; the modulo bias is below 2⁻⁵⁸.</summary>
    static int Draw(ref ulong state, int n) => (int)(Mix(state += 0x9E3779B97F4A7C15UL) % (ulong)n);

    /// <summary>SplitMix64's output function.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
