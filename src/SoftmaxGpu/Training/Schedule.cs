namespace SoftmaxGpu.Training;

/// <summary>One row of <see cref="Schedules"/>: η at update t of T, from the peak η.</summary>
public sealed record Schedule(string Name, string Description, Func<float, long, long, float> Rate);
