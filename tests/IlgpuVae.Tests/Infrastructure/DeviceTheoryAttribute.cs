using Xunit.Abstractions;
using Xunit.Sdk;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// A theory over accelerators: a row that names an OpenCL device (<see cref="TestDevices.IsOpenCl"/>) is reported as
/// skipped, with <see cref="TestDevices.OpenClSkipReason"/>, where the run has no usable OpenCL device (unless
/// ILGPUVAE_REQUIRE names opencl: <see cref="Prerequisites"/>), and runs wherever there is one — so every run lists the OpenCL cases, and a run with a device leaves none out. A
/// <see cref="SkippedRow"/> is skipped with its own reason.
/// (xunit 2.9 cannot skip a row once it runs; its discoverer can, which is what this attribute changes.)
/// </summary>
[XunitTestCaseDiscoverer("IlgpuVae.Tests.Infrastructure.DeviceTheoryDiscoverer", "IlgpuVae.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DeviceTheoryAttribute : TheoryAttribute;

/// <summary>The discoverer of <see cref="DeviceTheoryAttribute"/>.</summary>
public sealed class DeviceTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
        SkipReason(dataRow) is { } reason
            ? CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow, reason)
            : base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);

    static string? SkipReason(object[] row) => SkippedRow.ReasonIn(row)
        ?? (row.Any(v => v is string s && TestDevices.IsOpenCl(s)) ? Prerequisites.SkipReason(Prerequisite.OpenCl) : null);
}
