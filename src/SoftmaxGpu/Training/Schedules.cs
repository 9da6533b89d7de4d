namespace SoftmaxGpu.Training;

/// <summary>The learning-rate schedules --lr-schedule names (mini-batch optimizers), as a table.</summary>
public static class Schedules
{
    public static readonly Schedule Cosine = new("cosine", "decays η to 0 over the planned updates",
        (peak, step, total) => (float)(peak * 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / total))));

    public static readonly Schedule Constant = new("constant", "keeps η", (peak, _, _) => peak);

    public static readonly IReadOnlyList<Schedule> All = [Cosine, Constant];

    public static Schedule Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"--lr-schedule must be one of {string.Join(", ", All.Select(s => s.Name))}, got '{name}'");
}
