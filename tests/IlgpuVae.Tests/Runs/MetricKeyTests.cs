using System.Reflection;
using IlgpuVae.Evaluation;
using IlgpuVae.Metrics;
using IlgpuVae.Model;
using IlgpuVae.Runs;

namespace IlgpuVae.Tests.Runs;

/// <summary>Every key metrics.jsonl and eval.json hold is one MetricKey declares, and the contract's keys are among them.</summary>
public sealed class MetricKeyTests
{
    static readonly HashSet<string> Declared = typeof(MetricKey).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

    [Fact]
    public void AnEpochsMetricsUseDeclaredKeysOnly()
    {
        var terms = new LossTerms(1, 2, 3, 4);
        var metrics = new EpochReport(1, 2, terms, terms, 1.5, 10) { Replicas = 2, ExchangeSeconds = 0.1 }.ToMetrics(7);
        Assert.Empty(metrics.Keys.Except(Declared));
        // DESIGN's contract keys.
        Assert.Superset(new HashSet<string> { "epoch", "train_loss", "train_recon", "train_kl", "train_mmd", "test_loss", "test_recon", "test_kl",
            "test_mmd", "test_neg_elbo", "seconds", "images_per_second" }, metrics.Keys.ToHashSet());
    }

    [Fact]
    public void AnEvaluationUsesDeclaredKeysOnly()
    {
        var result = new EvalResult(new LossTerms(1, 2, 3, 4), 5, 6, 10, 0.5, 2, [0.1, 0.2], [0.3, 0.4], 0.01, 100, 784);
        var json = result.ToJson();
        Assert.Empty(json.Keys.Except(Declared));
        Assert.Superset(new HashSet<string> { "test_neg_elbo", "iwae_nll", "iwae_k", "bits_per_dim", "mi", "active_units", "mmd_aggregate", "kl" }, json.Keys.ToHashSet());
        Assert.Superset(MetricKey.EpochEvaluation.ToHashSet(), json.Keys.ToHashSet());
    }
}
