namespace IlgpuVae.Training;

/// <summary>
/// KL warm-up (Bowman et al., 2016; Sønderby et al., 2016): the KL term's weight rises linearly from 0 to the
/// objective's 1 − α over the first <see cref="Epochs"/> epochs, a little at every step, and stays there. Step t of the
/// run (t = 1, 2, …, counted over every epoch, as the optimizer counts them) has weight (1 − α)·min(1, t / (N·S)), with
/// N = <see cref="Epochs"/> (fractions allowed) and S = <see cref="StepsPerEpoch"/>: after e epochs the weight is
/// (1 − α)·min(1, e/N), and for a whole N the last step of epoch N is the first at full weight. The weight depends on
/// the step count alone, which the training state keeps, so a resumed run continues the ramp where it stopped. The
/// MMD's weight α + λ − 1 is not warmed up.
/// </summary>
internal readonly record struct KlWarmup(double Epochs, int StepsPerEpoch)
{
    /// <summary>The factor on 1 − α of step <paramref name="step"/> (1 for the first), in [0, 1].</summary>
    public double Factor(long step) => Math.Min(1.0, step / (Epochs * StepsPerEpoch));
}
