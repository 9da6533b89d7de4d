namespace SoftmaxGpu.Distributed;

/// <summary>
/// The processes that train one model together (MPI ranks), as training sees them: this process's rank among
/// <see cref="Size"/>, a sum over every rank, and a way to stop them all. Every rank makes the same calls in the
/// same order (they are collective): a call one rank skips leaves the others waiting. One process alone is
/// <see cref="SingleProcess"/>, where every call returns at once and nothing is copied.
/// </summary>
public interface ICommunicator
{
    /// <summary>r: this process, 0 ≤ r &lt; P.</summary>
    int Rank { get; }

    /// <summary>P: processes in the job.</summary>
    int Size { get; }

    /// <summary>values[i] ← Σ over ranks of values[i], the same result on every rank (an all-reduce).</summary>
    void Sum(Span<double> values);

    /// <summary>(min, max) over ranks of <paramref name="value"/>: equal exactly when every rank gave the same.</summary>
    (long Min, long Max) MinMax(long value);

    /// <summary>Ends every rank of the job with <paramref name="exitCode"/> (the caller has said why); does not return.</summary>
    void Abort(int exitCode);
}

/// <summary>One process training alone: the sums are the values themselves.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static readonly SingleProcess Instance = new();

    private SingleProcess()
    {
    }

    public int Rank => 0;
    public int Size => 1;

    public void Sum(Span<double> values)
    {
    }

    public (long Min, long Max) MinMax(long value) => (value, value);

    public void Abort(int exitCode) => Environment.Exit(exitCode);
}
