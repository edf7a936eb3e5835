using System.Runtime.InteropServices;

namespace IlgpuVae.Compute;

/// <summary>
/// Why ILGPU sees no OpenCL device, told apart the way a user fixes it: no OpenCL library at all; only the
/// versioned <c>libOpenCL.so.1</c> (ILGPU opens the unversioned <c>libOpenCL.so</c>, which the loader's development
/// package provides); or a loader that lists no platform, i.e. no driver (ICD) is installed. A device that is found
/// but refused — one without the generic address space, say — is ILGPU's own message, in <see cref="ComputeDevice.Survey"/>.
/// </summary>
internal static class OpenClLoader
{
    const string Install = "on Debian 13 or Ubuntu 24.04, apt-get install pocl-opencl-icd ocl-icd-opencl-dev gives a CPU device; a GPU vendor's driver gives its GPUs";

    /// <summary>One sentence on why there is no OpenCL device, with what to do.</summary>
    public static string WhyNoDevice()
    {
        string library = OperatingSystem.IsWindows() ? "OpenCL.dll" : OperatingSystem.IsMacOS() ? "/System/Library/Frameworks/OpenCL.framework/OpenCL" : "libOpenCL.so";
        if (!NativeLibrary.TryLoad(library, out var handle))
        {
            if (OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libOpenCL.so.1", out var versioned))
            {
                NativeLibrary.Free(versioned);
                return "Only libOpenCL.so.1 is installed, and ILGPU opens libOpenCL.so: install the OpenCL loader's development package (Debian and Ubuntu: ocl-icd-opencl-dev).";
            }
            return $"No OpenCL library ({library}) is installed: {Install}.";
        }
        try
        {
            int platforms = CountPlatforms(handle);
            return platforms == 0
                ? $"{library} loads but lists no OpenCL platform, so no OpenCL driver (ICD) is installed: {Install}."
                : $"{library} lists {platforms} OpenCL platform(s), but ILGPU found no device on them.";
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    /// <summary>clGetPlatformIDs' count of platforms (0 where the call fails: the ICD loader reports "no platform" as an error).</summary>
    static unsafe int CountPlatforms(IntPtr library)
    {
        if (!NativeLibrary.TryGetExport(library, "clGetPlatformIDs", out var export)) return 0;
        var getPlatformIds = (delegate* unmanaged<uint, IntPtr*, uint*, int>)export;
        uint count = 0;
        return getPlatformIds(0, null, &count) == 0 ? (int)count : 0;
    }
}
