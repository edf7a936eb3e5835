namespace IlgpuVae.Settings;

/// <summary>Help texts that several commands' options share with a setting's declaration.</summary>
public static class SettingTexts
{
    /// <summary>What --device takes.</summary>
    public const string Devices = "auto (CUDA, then OpenCL, then the CPU), cpu, cuda, opencl, or cuda:N / opencl:N for the N-th";

    /// <summary>What --kernels takes.</summary>
    public const string KernelSets = "fastest (the device's own) or portable (exactly a GPU's kernels and launch shapes, on any device; slow on the CPU)";
}
