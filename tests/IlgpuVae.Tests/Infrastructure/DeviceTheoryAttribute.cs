using Xunit.Abstractions;
using Xunit.Sdk;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// A theory over accelerators: a row that names an OpenCL device (<see cref="TestDevices.IsOpenCl"/>) is left out where
/// the run has no usable OpenCL device (unless ILGPUVAE_REQUIRE names opencl: <see cref="Prerequisites"/>) — one case of
/// <see cref="PrerequisiteTests"/> says how many and why — and runs wherever there is one, so a run with a device leaves
/// none out. A <see cref="SkippedRow"/> is skipped with its own reason.
/// (xunit 2.9 cannot skip a row once it runs; its discoverer can, which is what this attribute changes.)
/// </summary>
[XunitTestCaseDiscoverer("IlgpuVae.Tests.Infrastructure.DeviceTheoryDiscoverer", "IlgpuVae.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DeviceTheoryAttribute : TheoryAttribute;

/// <summary>The discoverer of <see cref="DeviceTheoryAttribute"/>.</summary>
public sealed class DeviceTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow)
    {
        // Rows on an OpenCL device that is not here are left out, and PrerequisiteTests says once how many and why — unless
        // the theory has no other rows, which xunit would report as a theory without data: those are skipped one by one.
        if (IsOpenClRow(dataRow) && Prerequisites.SkipReason(Prerequisite.OpenCl) is { } absent)
            return HasOtherRows(testMethod) ? [] : CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow, absent);
        return SkippedRow.ReasonIn(dataRow) is { } reason
            ? CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow, reason)
            : base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<System.Reflection.MethodInfo, bool> OtherRows = new();

    /// <summary>Whether the theory has a row that is not on the OpenCL device.</summary>
    static bool HasOtherRows(ITestMethod testMethod)
    {
        return OtherRows.GetOrAdd(testMethod.Method.ToRuntimeMethod(), m => Rows(m).Any(row => !IsOpenClRow(row)));
    }

    /// <summary>The rows of theory <paramref name="method"/>, from its data attributes.</summary>
    internal static IEnumerable<object?[]> Rows(System.Reflection.MethodInfo method) =>
        method.GetCustomAttributes(typeof(DataAttribute), false).Cast<DataAttribute>().SelectMany(d => d.GetData(method));

    /// <summary>Whether a theory row names an OpenCL device.</summary>
    internal static bool IsOpenClRow(object?[] row) => row.Any(v => v is string s && TestDevices.IsOpenCl(s));
}
