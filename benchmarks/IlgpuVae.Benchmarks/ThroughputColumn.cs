using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// A column that turns a benchmark's median time into a rate (GFLOP/s, GB/s, images/s) from the work one
/// invocation does, which the benchmark class states per case.
/// </summary>
public sealed class ThroughputColumn(string name, Func<BenchmarkCase, double> workPerInvocation, double unit) : IColumn
{
    public string Id => nameof(ThroughputColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"{name} at the median time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        double seconds = stats.Median * 1e-9;
        return (workPerInvocation(benchmarkCase) / seconds / unit).ToString("F2");
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    /// <summary>The value of parameter <paramref name="name"/> of a case.</summary>
    public static int Param(BenchmarkCase c, string name) => Convert.ToInt32(c.Parameters[name]);
}
