namespace IlgpuVae.Tests.Infrastructure;

/// <summary>Float comparisons used across the suite.</summary>
internal static class Tolerance
{
    /// <summary>‖got − want‖ / max(‖want‖, 1e-6): the norm-wise rule of the golden fixtures.</summary>
    public static double RelativeNormError(ReadOnlySpan<float> got, ReadOnlySpan<double> want)
    {
        Assert.Equal(want.Length, got.Length);
        return IlgpuVae.Verification.GoldenCheck.Error(got, want);
    }

    /// <summary>Asserts the norm-wise relative error is at most <paramref name="tolerance"/>.</summary>
    public static void AssertClose(ReadOnlySpan<float> got, ReadOnlySpan<double> want, double tolerance, string what)
    {
        double error = RelativeNormError(got, want);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E3} exceeds {tolerance:E1}.");
    }

    /// <summary>|got − want| ≤ abs + rel·|want| (an absolute part, so want = 0 is handled).</summary>
    public static void AssertNear(double got, double want, double rel, double abs, string what)
    {
        Assert.True(Math.Abs(got - want) <= abs + rel * Math.Abs(want), $"{what}: got {got:R}, want {want:R}.");
    }
}
