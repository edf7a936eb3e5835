using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.IO;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli;

/// <summary>The exceptions that mean the user asked for something impossible: one line, exit code 1.</summary>
static class Errors
{
    public static bool IsUserError(Exception e) => e is ArgumentException or DataFormatException or SafeTensorsFormatException
        or RunFolderException or DeviceUnavailableException or NumericalFaultException or FileNotFoundException
        or DirectoryNotFoundException or UnauthorizedAccessException or InvalidDataException;
}
