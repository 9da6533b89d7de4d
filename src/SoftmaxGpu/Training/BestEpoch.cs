using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// Early stopping on the validation loss: keeps a device copy of θ at the lowest validation loss seen, says when
/// <c>patience</c> epochs have passed without a lower one, and puts the kept θ back at the end.
/// With patience 0 it only watches.
/// </summary>
public sealed class BestEpoch(Accelerator accelerator, GradientEngine engine, int patience) : IDisposable
{
    private double bestLoss = double.PositiveInfinity;
    private MemoryBuffer1D<float, Stride1D.Dense>? kept;

    /// <summary>The epoch whose θ is kept; 0 until one is.</summary>
    public int Epoch { get; private set; }
    public bool Stopped { get; private set; }
    /// <summary>Whether <see cref="Restore"/> put an earlier epoch's θ back.</summary>
    public bool Restored { get; private set; }

    public void Observe(int epoch, double? validationLoss)
    {
        if (patience == 0 || validationLoss is not double loss)
            return;
        if (loss < bestLoss)
        {
            (bestLoss, Epoch) = (loss, epoch);
            kept ??= accelerator.Allocate1D<float>(engine.Theta.Length);
            engine.Theta.CopyTo(kept.View);
        }
        else if (epoch - Epoch >= patience)
        {
            Stopped = true;
        }
    }

    /// <summary>After <paramref name="epochsRun"/> epochs: θ of the kept epoch back into the engine, if it was not the last.</summary>
    public void Restore(int epochsRun)
    {
        if (kept is not null && Epoch != epochsRun)
        {
            kept.View.CopyTo(engine.Theta);
            Restored = true;
        }
        Dispose();
    }

    public void Dispose()
    {
        kept?.Dispose();
        kept = null;
    }
}
