using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// Double-precision references for each kernel, written as plainly as possible. Matrices are row-major
/// arrays; shapes follow the kernels (x [B, in], W [out, in], y [B, out]).
/// </summary>
internal static class Reference
{
    public static double Act(double x, Activation a) => a switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.LeakyRelu => x > 0 ? x : 0.01 * x,
        Activation.Tanh => Math.Tanh(x),
        Activation.Softplus => Softplus(x),
        _ => x,
    };

    /// <summary>d act / d x at the pre-activation x.</summary>
    public static double ActGrad(double x, Activation a) => a switch
    {
        Activation.Relu => x > 0 ? 1 : 0,
        Activation.LeakyRelu => x > 0 ? 1 : 0.01,
        Activation.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        Activation.Softplus => Sigmoid(x),
        _ => 1,
    };

    /// <summary>act'(pre) written through the output y = act(pre), as the backward kernels take it.</summary>
    public static double ActGradFromOutput(double y, Activation a) => a switch
    {
        Activation.Relu => y > 0 ? 1 : 0,
        Activation.LeakyRelu => y > 0 ? 1 : 0.01,
        Activation.Tanh => 1 - y * y,
        Activation.Softplus => 1 - Math.Exp(-y),
        _ => 1,
    };

    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>pre[B, out] = x·Wᵀ + b.</summary>
    public static double[] Linear(double[] x, double[] w, double[] b, int batch, int inputs, int outputs)
    {
        var y = new double[batch * outputs];
        for (int r = 0; r < batch; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = b[o];
                for (int i = 0; i < inputs; i++) s += x[r * inputs + i] * w[o * inputs + i];
                y[r * outputs + o] = s;
            }
        return y;
    }

    /// <summary>dx[B, in] = dPre·W, dW[out, in] = dPreᵀ·x, db[out] = Σ_b dPre.</summary>
    public static (double[] Dx, double[] Dw, double[] Db) LinearBackward(double[] dPre, double[] x, double[] w, int batch, int inputs, int outputs)
    {
        var dx = new double[batch * inputs];
        var dw = new double[outputs * inputs];
        var db = new double[outputs];
        for (int r = 0; r < batch; r++)
            for (int o = 0; o < outputs; o++)
            {
                double g = dPre[r * outputs + o];
                db[o] += g;
                for (int i = 0; i < inputs; i++)
                {
                    dx[r * inputs + i] += g * w[o * inputs + i];
                    dw[o * inputs + i] += g * x[r * inputs + i];
                }
            }
        return (dx, dw, db);
    }

    public static double KernelValue(double d2, MmdKernel kernel, double parameter) =>
        kernel == MmdKernel.Rbf ? Math.Exp(-d2 / (2 * parameter * parameter)) : parameter / (parameter + d2);

    /// <summary>MMD²(z, p) and ∂MMD²/∂z by the definitions in Divergences.cs.</summary>
    public static (double Value, double[] Grad) Mmd(double[] z, int b, double[] p, int m, int k, MmdKernel kernel, double parameter, bool unbiased)
    {
        double D2(double[] a, int i, double[] c, int j)
        {
            double s = 0;
            for (int t = 0; t < k; t++) s += (a[i * k + t] - c[j * k + t]) * (a[i * k + t] - c[j * k + t]);
            return s;
        }
        // ∂k/∂a = slope·(a − b), from the kernel's derivative in d².
        double Slope(double d2) => kernel == MmdKernel.Rbf
            ? -KernelValue(d2, kernel, parameter) / (parameter * parameter)
            : -2 * parameter / ((parameter + d2) * (parameter + d2));
        double zz = 0, pp = 0, zp = 0;
        var grad = new double[b * k];
        double wzz = unbiased ? b * (b - 1.0) : (double)b * b, wpp = unbiased ? m * (m - 1.0) : (double)m * m;
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
            {
                if (unbiased && i == j) continue;
                double d2 = D2(z, i, z, j);
                zz += KernelValue(d2, kernel, parameter);
                for (int t = 0; t < k; t++) grad[i * k + t] += 2 * Slope(d2) * (z[i * k + t] - z[j * k + t]) / wzz;
            }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
                if (!(unbiased && i == j)) pp += KernelValue(D2(p, i, p, j), kernel, parameter);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < m; j++)
            {
                double d2 = D2(z, i, p, j);
                zp += KernelValue(d2, kernel, parameter);
                for (int t = 0; t < k; t++) grad[i * k + t] -= 2 * Slope(d2) * (z[i * k + t] - p[j * k + t]) / ((double)b * m);
            }
        return (zz / wzz + pp / wpp - 2 * zp / ((double)b * m), grad);
    }
}
