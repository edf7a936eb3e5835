using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The transcendental functions every kernel uses, written out of adds, multiplies, one division and bit
/// manipulation, so they compile to the same accurate code on every backend. ILGPU's own <c>XMath</c> is not:
/// without libdevice its PTX for float exp, log, cos and tanh is the <c>.approx</c> hardware instructions
/// (tanh.approx is off by up to 2⁻¹¹, enough to miss the fixtures' 1e-4), and its double exp and log are a
/// software loop that runs ⌊|x|/ln 2⌋ times, which a log-sum-exp over thousands of nats turns into a stall.
/// Here: float exp and log within 2 ulp (Cephes' polynomials), double exp and log within 2 ulp (Taylor and
/// atanh series after Cody–Waite reduction), each branch-light and loop-free. The tests hold them to those
/// bounds against <see cref="Math"/>; a test of the PTX checks that no kernel uses an approximate instruction.
/// </summary>
public static class DeviceMath
{
    /// <summary>ln 2 in two parts (their sum, with no rounding in n·Ln2HiF) and log₂ e, for the float exp and log; the vector code uses them too.</summary>
    internal const float Ln2HiF = 0.693359375f, Ln2LoF = -2.12194440e-4f, Log2EF = 1.44269504088896341f;
    const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
    const double Log2E = 1.44269504088896338700e+00, Sqrt2 = 1.41421356237309504880;

    // ---- float ------------------------------------------------------------------------------------------

    /// <summary>eˣ in float: n = round(x/ln 2), r = x − n·ln 2 (two-part constant), a degree-7 polynomial, × 2ⁿ.</summary>
    public static float Exp(float x)
    {
        // The negated test also catches NaN, which passes through.
        if (!(x <= 88.72283935546875f)) return x > 0f ? float.PositiveInfinity : x;
        if (x < -103.97208f) return 0f;
        float t = x * Log2EF;
        int n = (int)(t + (t >= 0f ? 0.5f : -0.5f));
        float r = x - n * Ln2HiF;
        r -= n * Ln2LoF;
        float r2 = r * r;
        float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r
            + 1.6666665459e-1f) * r + 5.0000001201e-1f;
        return ScaleByPowerOfTwo(p * r2 + r + 1f, n);
    }

    /// <summary>log x in float: x = m·2ᵉ with m in [√½, √2), then Cephes' polynomial in m − 1.</summary>
    public static float Log(float x)
    {
        if (!(x > 0f)) return x == 0f ? float.NegativeInfinity : float.NaN;
        if (x == float.PositiveInfinity) return x;
        uint bits = Interop.FloatAsInt(x);
        int e = (int)(bits >> 23) - 127;
        if (e == -127)
        {
            // Subnormal: scale into the normal range first.
            bits = Interop.FloatAsInt(x * 16777216f);
            e = (int)(bits >> 23) - 127 - 24;
        }
        float m = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F800000u);
        if (m > 1.41421356f)
        {
            m *= 0.5f;
            e++;
        }
        float f = m - 1f, z = f * f;
        float y = ((((((((7.0376836292e-2f * f - 1.1514610310e-1f) * f + 1.1676998740e-1f) * f - 1.2420140846e-1f) * f
            + 1.4249322787e-1f) * f - 1.6668057665e-1f) * f + 2.0000714765e-1f) * f - 2.4999993993e-1f) * f
            + 3.3333331174e-1f) * f * z;
        y += e * Ln2LoF;
        y -= 0.5f * z;
        return f + y + e * Ln2HiF;
    }

    /// <summary>log(1 + e) for e ≥ 0: for tiny e, 1 + e rounds to 1 in float, so the series e − e²/2 is used.</summary>
    public static float Log1p(float e) => e < 1e-4f ? e * (1f - 0.5f * e) : Log(1f + e);

    /// <summary>tanh x, from the double exponential: (e²ˣ − 1)/(e²ˣ + 1), or its series below |x| = 0.01.</summary>
    public static float Tanh(float x)
    {
        double a = x < 0f ? -(double)x : x;
        double t;
        if (a < 0.01)
        {
            double a2 = a * a;
            t = a * (1.0 - a2 * (1.0 / 3.0 - a2 * (2.0 / 15.0)));
        }
        else if (a > 20.0) t = 1.0;
        else
        {
            double e = Exp(2.0 * a);
            t = (e - 1.0) / (e + 1.0);
        }
        return (float)(x < 0f ? -t : t);
    }

    /// <summary>y·2ⁿ for n in [−150, 128], in two steps where 2ⁿ itself is not a normal float.</summary>
    static float ScaleByPowerOfTwo(float y, int n)
    {
        if (n > 127) return y * PowerOfTwoF(127) * PowerOfTwoF(n - 127);
        if (n < -126) return y * PowerOfTwoF(-126) * PowerOfTwoF(n + 126);
        return y * PowerOfTwoF(n);
    }

    static float PowerOfTwoF(int n) => Interop.IntAsFloat((uint)(n + 127) << 23);

    // ---- double -----------------------------------------------------------------------------------------

    /// <summary>eˣ in double: n = round(x/ln 2), r = x − n·ln 2 (|r| ≤ 0.35), Taylor to r¹³, × 2ⁿ.</summary>
    public static double Exp(double x)
    {
        if (!(x <= 709.782712893384)) return x > 0.0 ? double.PositiveInfinity : x;
        if (x < -745.2) return 0.0;
        double t = x * Log2E;
        int n = (int)(t + (t >= 0.0 ? 0.5 : -0.5));
        double r = x - n * Ln2Hi;
        r -= n * Ln2Lo;
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r * r + r + 1.0;
        return ScaleByPowerOfTwo(p, n);
    }

    /// <summary>log x in double: x = m·2ᵉ with m in [√½, √2), f = (m − 1)/(m + 1), log m = 2·atanh f as a series in f².</summary>
    public static double Log(double x)
    {
        if (!(x > 0.0)) return x == 0.0 ? double.NegativeInfinity : double.NaN;
        if (x == double.PositiveInfinity) return x;
        ulong bits = Interop.FloatAsInt(x);
        int e = (int)(bits >> 52) - 1023;
        if (e == -1023)
        {
            bits = Interop.FloatAsInt(x * 18014398509481984.0); // 2⁵⁴
            e = (int)(bits >> 52) - 1023 - 54;
        }
        double m = Interop.IntAsFloat((bits & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL);
        if (m > Sqrt2)
        {
            m *= 0.5;
            e++;
        }
        double f = (m - 1.0) / (m + 1.0), s = f * f;
        // |f| ≤ 0.172, s ≤ 0.0295: the series' terms up to s¹¹/23 leave less than 1e-19.
        double q = 1.0 / 23.0;
        q = q * s + 1.0 / 21.0;
        q = q * s + 1.0 / 19.0;
        q = q * s + 1.0 / 17.0;
        q = q * s + 1.0 / 15.0;
        q = q * s + 1.0 / 13.0;
        q = q * s + 1.0 / 11.0;
        q = q * s + 1.0 / 9.0;
        q = q * s + 1.0 / 7.0;
        q = q * s + 1.0 / 5.0;
        q = q * s + 1.0 / 3.0;
        double logM = 2.0 * f + 2.0 * f * s * q;
        return e * Ln2Hi + (e * Ln2Lo + logM);
    }

    /// <summary>cos(2πu) for u in [0, 1] (Box–Muller's angle), by symmetry down to |θ| ≤ π/2 and a Taylor series.</summary>
    public static double CosTwoPi(double u)
    {
        // cos(2πu) = −cos(2π(u − ½)) with |u − ½| ≤ ½; then cos(θ) = −cos(π − |θ|) folds |θ| into [0, π/2].
        double theta = 2.0 * Math.PI * (u - 0.5);
        double a = theta < 0.0 ? -theta : theta;
        double sign = -1.0;
        if (a > 0.5 * Math.PI)
        {
            a = Math.PI - a;
            sign = 1.0;
        }
        double a2 = a * a;
        double c = 1.0 / 2432902008176640000.0;
        c = -c * a2 + 1.0 / 6402373705728000.0;
        c = -c * a2 + 1.0 / 20922789888000.0;
        c = -c * a2 + 1.0 / 87178291200.0;
        c = -c * a2 + 1.0 / 479001600.0;
        c = -c * a2 + 1.0 / 3628800.0;
        c = -c * a2 + 1.0 / 40320.0;
        c = -c * a2 + 1.0 / 720.0;
        c = -c * a2 + 1.0 / 24.0;
        c = -c * a2 + 0.5;
        c = -c * a2 + 1.0;
        return sign * c;
    }

    static double ScaleByPowerOfTwo(double y, int n)
    {
        if (n > 1023) return y * PowerOfTwo(1023) * PowerOfTwo(n - 1023);
        if (n < -1022) return y * PowerOfTwo(-1022) * PowerOfTwo(n + 1022);
        return y * PowerOfTwo(n);
    }

    static double PowerOfTwo(int n) => Interop.IntAsFloat((ulong)(n + 1023) << 52);
}
