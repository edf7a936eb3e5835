using System.Runtime.Intrinsics;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Compute;

namespace IlgpuVae.Benchmarking;

/// <summary>
/// A device's nominal FP32 peak: multiprocessors (or cores) × clock × FP32 lanes each × 2 (a fused multiply-add
/// is two operations). On CUDA the multiprocessors and clock come from the driver and the lanes per
/// multiprocessor from the architecture (64 for sm_60, sm_70, sm_75, sm_80; 128 for sm_61, sm_86, sm_89,
/// sm_90 and later). On the CPU: the physical cores /proc/cpuinfo lists (else the hardware threads), the
/// highest clock the kernel reports, two FMA units per core × the widest vector the processor has (16 floats
/// with AVX-512, 8 with AVX2, 4 otherwise). Null when unknown (OpenCL).
/// </summary>
internal static class DevicePeak
{
    public sealed record Peak(double Gflops, string How);

    public static Peak? Of(ComputeDevice device)
    {
        if (device.Accelerator is CudaAccelerator cuda)
        {
            int lanes = LanesPerMultiprocessor(cuda.Architecture);
            double ghz = cuda.ClockRate / 1e6;
            return new(cuda.NumMultiprocessors * ghz * lanes * 2,
                $"{cuda.NumMultiprocessors} SMs × {ghz:F2} GHz × {lanes} FP32 lanes × 2");
        }
        if (device.Kind != DeviceKind.Cpu) return null;
        double? cpuGhz = CpuClockGhz();
        if (cpuGhz is not { } clock) return null;
        int cores = PhysicalCores(), width = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        return new(cores * clock * 2 * width * 2, $"{cores} cores × {clock:F2} GHz × 2 FMA units × {width} lanes × 2");
    }

    static int LanesPerMultiprocessor(CudaArchitecture sm) =>
        sm == CudaArchitecture.SM_61 || sm == CudaArchitecture.SM_62 || sm >= CudaArchitecture.SM_86 ? 128 : 64;

    /// <summary>Distinct (physical id, core id) pairs of /proc/cpuinfo; the hardware threads where it says nothing.</summary>
    static int PhysicalCores()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return Environment.ProcessorCount;
            string package = "0";
            var cores = new HashSet<string>();
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("physical id")) package = line.Split(':')[1].Trim();
                else if (line.StartsWith("core id")) cores.Add(package + "/" + line.Split(':')[1].Trim());
            }
            return cores.Count > 0 ? cores.Count : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>The maximum frequency the kernel reports, or the largest "cpu MHz" of /proc/cpuinfo.</summary>
    static double? CpuClockGhz()
    {
        try
        {
            const string max = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq";
            if (File.Exists(max) && double.TryParse(File.ReadAllText(max).Trim(), out double khz)) return khz / 1e6;
            if (!File.Exists("/proc/cpuinfo")) return null;
            double mhz = File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("cpu MHz"))
                .Select(l => double.TryParse(l.Split(':')[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : 0)
                .DefaultIfEmpty(0).Max();
            return mhz > 0 ? mhz / 1000 : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
