namespace MemoryNet.Training;

/// <summary>
/// Linear warm-up to the base rate over <c>warmupSteps</c>, then cosine annealing to <c>lrMin</c> at
/// <c>totalSteps</c> (the reference's GradualWarmupScheduler + CosineAnnealingLR, evaluated per step).
/// A pure function of the step, so a resumed run continues with the identical rate.
/// </summary>
public sealed record LrSchedule(double Lr, double LrMin, long WarmupSteps, long TotalSteps)
{
    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Lr * (step + 1) / WarmupSteps;
        long span = Math.Max(1, TotalSteps - WarmupSteps);
        double t = Math.Clamp((double)(step - WarmupSteps) / span, 0, 1);
        return LrMin + 0.5 * (Lr - LrMin) * (1 + Math.Cos(Math.PI * t));
    }
}
