using IlgpuVae.Data;

namespace IlgpuVae.Tests.Data;

public sealed class SpritesTests
{
    const int Count = 600, Size = 28;
    static readonly ImageSet Set = Sprites.Generate(Count, seed: 7, Size);

    [Fact]
    public void SameSeedGivesSameImages()
    {
        ImageSet again = Sprites.Generate(Count, seed: 7, Size);

        Assert.Equal(Set.Pixels, again.Pixels);
        Assert.Equal(Set.Factors!, again.Factors!);
        Assert.Equal(Set.Labels, again.Labels);
    }

    [Fact]
    public void ImageDependsOnlyOnSeedAndIndex()
    {
        ImageSet prefix = Sprites.Generate(10, seed: 7, Size);

        Assert.Equal(Set.Slice(0, 10).Pixels, prefix.Pixels);
    }

    [Fact]
    public void DifferentSeedGivesDifferentImages()
    {
        ImageSet other = Sprites.Generate(Count, seed: 8, Size);

        Assert.NotEqual(Set.Pixels, other.Pixels);
        Assert.NotEqual(Set.Factors!, other.Factors!);
    }

    [Fact]
    public void DescribesItsFactors()
    {
        Assert.Equal(["square", "ellipse", "heart"], Set.LabelNames);
        Assert.Equal(["shape", "scale", "orientation", "pos_x", "pos_y"], Set.FactorNames);
        Assert.Equal((Count, Size, Size), (Set.Count, Set.Height, Set.Width));
    }

    [Fact]
    public void PixelsAreSoftIntensitiesInUnitInterval()
    {
        ImageSet.Validate(Set);
        Assert.Contains(Set.Pixels, p => p is > 0f and < 1f); // antialiased edges
        Assert.Contains(Set.Pixels, p => p == 1f);
    }

    [Fact]
    public void FactorsLieOnTheirGrids()
    {
        float[] f = Set.Factors!;
        for (int i = 0; i < Count; i++)
        {
            float shape = f[5 * i], scale = f[5 * i + 1], angle = f[5 * i + 2], x = f[5 * i + 3], y = f[5 * i + 4];
            Assert.Equal(Set.Labels[i], (int)shape);
            Assert.InRange(shape, 0, Sprites.ShapeCount - 1);
            Assert.InRange(scale, 0.5f, 1.0f + 1e-6f);
            Assert.Equal(0, OffGrid((scale - 0.5f) * 10), 4);
            Assert.InRange(angle, 0f, 2 * MathF.PI - 1e-4f);
            Assert.Equal(0, OffGrid(angle / (2 * MathF.PI) * Sprites.OrientationCount), 3);
            Assert.InRange(x, 0f, 1f);
            Assert.InRange(y, 0f, 1f);
            Assert.Equal(0, OffGrid(x * (Sprites.PositionCount - 1)), 4);
        }
        // 600 uniform draws cover every value of the small grids.
        Assert.Equal(3, Set.Labels.Distinct().Count());
        Assert.Equal(6, Enumerable.Range(0, Count).Select(i => f[5 * i + 1]).Distinct().Count());
    }

    [Fact]
    public void EveryShapeHasMassAndStaysInsideTheFrame()
    {
        for (int i = 0; i < Count; i++)
        {
            ReadOnlySpan<float> image = Set.Pixels.AsSpan(i * Set.Dim, Set.Dim);
            float mass = 0, border = 0;
            for (int p = 0; p < image.Length; p++)
            {
                mass += image[p];
                int row = p / Size, col = p % Size;
                if (row == 0 || col == 0 || row == Size - 1 || col == Size - 1)
                    border += image[p];
            }
            Assert.True(mass > 10, $"image {i} ({Set.LabelNames[Set.Labels[i]]}) has mass {mass}");
            Assert.True(border == 0, $"image {i} touches the frame");
        }
    }

    [Theory]
    [InlineData(0, 1.96)] // square of half-side 0.7 R: (1.4 R)²
    [InlineData(1, 1.5708)] // ellipse of semi-axes R and 0.5 R: π R² / 2
    public void MassMatchesShapeArea(int shape, double areaOverRadiusSquared)
    {
        float[] f = Set.Factors!;
        for (int i = 0; i < Count; i++)
        {
            if (Set.Labels[i] != shape)
                continue;
            double r = f[5 * i + 1] * Sprites.RadiusFraction * Size;
            double mass = Set.Pixels.AsSpan(i * Set.Dim, Set.Dim).ToArray().Sum();
            Assert.InRange(mass / (areaOverRadiusSquared * r * r), 0.93, 1.07);
        }
    }

    static float OffGrid(float v) => MathF.Abs(v - MathF.Round(v));
}
