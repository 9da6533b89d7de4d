using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// The rows of a <see cref="SharedPass"/> read from a source a block at a time (a .sgd file larger than memory): a
/// round's pass reads every block once, takes the block's rows fold by fold (an order sorted by fold,
/// <see cref="HostStep.Batch.Order"/>, as the stacked pass wants them), and adds the block's gradients of every model into
/// float64 sums; a fold's held-out rows are scored the same way, block by block. Host memory: two blocks (their
/// features, target rows, labels and order: one for the rounds, one for the scores, which the folds' threads ask for
/// one at a time while a round may be running), every row's label and fold [N].
/// </summary>
internal sealed class StreamedRows
{
    private readonly IRowSource rows;
    private readonly int[] labels; // [N] the class of each row, which the head and the held-out rows read (zeros for tag sets)
    private readonly int[] foldOfRow; // [N]
    private readonly int folds, blockRows, width;
    private readonly Block round, scoring; // the rounds' block (under SharedPass's gate) and the scores' (under scoreGate)
    private readonly Lock scoreGate = new();

    /// <summary>One block's buffers: features [rows, D], target rows [rows, width], labels, the rows sorted by fold and the fold of each place.</summary>
    private sealed class Block(int rows, int d, int width)
    {
        public readonly float[] Features = new float[(long)rows * d];
        public readonly float[] Targets = new float[(long)rows * width];
        public readonly int[] Labels = new int[rows], Order = new int[rows], OrderFold = new int[rows];
    }

    /// <param name="blockRows">Rows a block (tests: small blocks); null: as many as <see cref="GradientEngine.BlockFloats"/> floats hold.</param>
    public StreamedRows(IRowSource rows, int[] labels, int[] foldOfRow, int folds, int? blockRows = null)
    {
        if (labels.Length != rows.Rows || foldOfRow.Length != rows.Rows)
            throw new ArgumentException($"{rows.Rows} rows need {rows.Rows} labels and folds, got {labels.Length} and {foldOfRow.Length}");
        (this.rows, this.labels, this.foldOfRow, this.folds, width) = (rows, labels, foldOfRow, folds, rows.TargetWidth);
        this.blockRows = (int)Math.Clamp(blockRows ?? GradientEngine.BlockFloats / Math.Max(1, rows.Dim + width), 1, Math.Max(1, rows.Rows));
        (round, scoring) = (new Block(this.blockRows, rows.Dim, width), new Block(this.blockRows, rows.Dim, width));
    }

    /// <summary>Each fold's mass M_f = Σ_i Σ_c t_ic over its rows (weighted rows), in float64.</summary>
    public double[] FoldMass()
    {
        var mass = new double[folds];
        foreach ((long start, int count) in Blocks())
        {
            Read(round, start, count);
            for (int r = 0; r < count; r++)
                mass[foldOfRow[start + r]] += FoldRows.Sum(round.Targets.AsSpan(r * width, width));
        }
        return mass;
    }

    /// <summary>
    /// The stacked pass of <see cref="HostStep.Gradient{THead}(HostStep.Batch, HostStep.Stack, float*, float[], Span{float}, double[], int[])"/>
    /// over every block: <paramref name="grad"/>, <paramref name="sums"/> and <paramref name="correct"/> as one pass over all
    /// the rows gives them, each the sum of the blocks' (the gradient summed in float64).
    /// </summary>
    public unsafe void Gradient(ILoss loss, int m, int* held, float** foldTheta, float[] scales, Span<float> grad, double[] sums,
        int[] correct, int k)
    {
        var total = new double[grad.Length];
        var blockSums = new double[m];
        var blockCorrect = new int[m];
        Array.Clear(sums);
        Array.Clear(correct);
        foreach ((long start, int count) in Blocks())
        {
            Read(round, start, count);
            int taken = ByFold(round, start, count, 0, folds);
            fixed (float* x = round.Features, t = round.Targets)
            fixed (int* y = round.Labels, o = round.Order, at = round.OrderFold)
            {
                var batch = new HostStep.Batch(x, o, y, width == 0 ? null : t, taken, rows.Dim, k);
                loss.HostGradient(batch, new HostStep.Stack(m, held, at, foldTheta), null, scales, grad, blockSums, blockCorrect);
            }
            for (int i = 0; i < grad.Length; i++)
                total[i] += grad[i];
            for (int s = 0; s < m; s++)
                (sums[s], correct[s]) = (sums[s] + blockSums[s], correct[s] + blockCorrect[s]);
        }
        for (int i = 0; i < grad.Length; i++)
            grad[i] = (float)total[i];
    }

    /// <summary>
    /// Mean loss and accuracy of fold <paramref name="fold"/>'s rows under θ = [W (K·D) | b (K)]: by their class, or by their
    /// tags (<paramref name="tags"/>), as <see cref="SharedPass.Score"/> scores rows in memory.
    /// </summary>
    public unsafe (double Loss, double Accuracy) Score(ILoss loss, int fold, float[] theta, int k, bool tags)
    {
        using Lock.Scope scope = scoreGate.EnterScope();
        Block block = scoring;
        var logits = new float[(long)blockRows * k];
        var outputs = new float[logits.Length];
        var rowStats = new float[2L * blockRows];
        (double sum, long right, long held) = (0, 0, 0);
        foreach ((long start, int count) in Blocks())
        {
            Read(block, start, count);
            int taken = ByFold(block, start, count, fold, fold + 1);
            if (taken == 0)
                continue;
            fixed (float* x = block.Features, t = block.Targets, th = theta, z = logits, q = outputs, stats = rowStats)
            fixed (int* y = block.Labels, o = block.Order)
            {
                var batch = new HostStep.Batch(x, o, y, tags ? t : null, taken, rows.Dim, k);
                (double blockLoss, int blockRight) = loss.HostForward(batch, th, withLoss: true, z, q, stats);
                (sum, right, held) = (sum + blockLoss, right + blockRight, held + taken);
            }
        }
        return (sum / held, (double)right / held);
    }

    /// <summary>The blocks of rows, in order: [start, start + count).</summary>
    private IEnumerable<(long Start, int Count)> Blocks()
    {
        for (long start = 0; start < rows.Rows; start += blockRows)
            yield return (start, (int)Math.Min(blockRows, rows.Rows - start));
    }

    /// <summary>Rows [start, start + count) into <paramref name="block"/>, with their labels (the source's own are not kept).</summary>
    private void Read(Block block, long start, int count)
    {
        rows.Read(start, count, new RowBlock(block.Features, block.Labels, block.Targets).Take(count, rows.Dim, width));
        labels.AsSpan((int)start, count).CopyTo(block.Labels);
    }

    /// <summary>
    /// The block's rows of folds [<paramref name="first"/>, <paramref name="end"/>) fold by fold, each fold's in their order,
    /// into the block's order (places in the block) and the fold of each place: a counting sort. Returns how many.
    /// </summary>
    private int ByFold(Block block, long start, int count, int first, int end)
    {
        var next = new int[folds + 1];
        for (int r = 0; r < count; r++)
        {
            int f = foldOfRow[start + r];
            if (f >= first && f < end)
                next[f + 1]++;
        }
        for (int f = 0; f < folds; f++)
            next[f + 1] += next[f];
        int taken = next[folds];
        for (int r = 0; r < count; r++)
        {
            int f = foldOfRow[start + r];
            if (f >= first && f < end)
            {
                int at = next[f]++;
                (block.Order[at], block.OrderFold[at]) = (r, f);
            }
        }
        return taken;
    }
}
