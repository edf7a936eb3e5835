using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>
/// The exceptions that mean the user asked for something impossible, or the device could not do it: one line,
/// exit code 1. An <see cref="InternalFaultException"/> is a bug: one line that says so, exit code 70.
/// </summary>
static class Errors
{
    public const int UserError = 1, InternalError = 70;

    public static bool IsUserError(Exception e) => e is ArgumentException or DataFormatException or SafeTensorsFormatException
        or RunFolderException or DeviceUnavailableException or DeviceFaultException or NumericalFaultException or FileNotFoundException
        or DirectoryNotFoundException or UnauthorizedAccessException or InvalidDataException;
}
