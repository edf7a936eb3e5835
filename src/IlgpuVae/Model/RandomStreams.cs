namespace IlgpuVae;

/// <summary>
/// The independent streams of the counter-based generator: a draw is keyed by (seed, stream, step), so
/// ε, the prior samples, the binarization and the initialization never share numbers.
/// </summary>
public static class RandomStreams
{
    public const ulong Initialization = 1, Epsilon = 2, Prior = 3, Binarization = 4, Shuffle = 5, Evaluation = 6;
}
