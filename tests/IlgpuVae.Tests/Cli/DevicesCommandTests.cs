using IlgpuVae.Compute;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// `devices` says why there is no OpenCL device in the words a user fixes it by — no library, only libOpenCL.so.1, a
/// loader without a driver, or a device ILGPU refuses — and lists a usable one as usable. Which case this machine is in
/// is read from its library folders here, independently of the command's own probing.
/// </summary>
public sealed class DevicesCommandTests
{
    static readonly string[] LibraryFolders = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"];

    static bool Installed(string file) => LibraryFolders.Any(d => File.Exists(Path.Combine(d, file)));

    [Fact]
    public void DevicesSaysWhyThereIsNoUsableOpenClDevice()
    {
        var (exit, output, error) = CliRunner.Run("devices");
        Assert.True(exit == 0, error);
        if (TestDevices.Usable(DeviceKind.OpenCL))
            Assert.Matches(@"(?m)^opencl:0 .*usable", output);
        else if (ComputeDevice.Survey().Any(r => r.Kind == DeviceKind.OpenCL))
            Assert.Contains("No OpenCL device qualifies: ILGPU needs OpenCL 2.0, or 3.0 with the generic address space", output);
        else if (!OperatingSystem.IsLinux())
            Assert.Contains("No OpenCL device found: ", output);
        else if (Installed("libOpenCL.so"))
            Assert.Contains("libOpenCL.so loads but lists no OpenCL platform, so no OpenCL driver (ICD) is installed", output);
        else if (Installed("libOpenCL.so.1"))
            Assert.Contains("Only libOpenCL.so.1 is installed, and ILGPU opens libOpenCL.so: install the OpenCL loader's development package", output);
        else
            Assert.Contains("No OpenCL library (libOpenCL.so) is installed: on Debian 13 or Ubuntu 24.04, apt-get install pocl-opencl-icd", output);
    }
}
