using System.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Many models per pass on the host engine (<see cref="SharedPass"/>): the stacked gradient is each fold model's own
/// gradient on its rows (against the float64 reference); a cross-validation through stacked passes, or through each
/// fold's own passes side by side, fits every fold at every C as the fits in sessions do; and each gives the same bits twice.
/// </summary>
public sealed class SharedPassTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    [Theory]
    [InlineData(613, 33, 3, 3, -1, false, 1)] // tiles of 2 and 3 models' logits (6, 9 classes): Z row by row; two workers
    [InlineData(301, 20, 12, 4, -1, false, 1)] // 36 and 48 classes: Z through the tile's Xᵀ (HostStep.TransposedClasses)
    [InlineData(613, 7, 5, 4, 2, false, 1)] // model 2 has left: fold 2's rows are computed for every model still there
    [InlineData(613, 33, 3, 3, -1, true, 1)] // shifted rows (ShiftedTile): 6 and 9 logits, a row of Wᵀ one vector
    [InlineData(301, 20, 12, 4, -1, true, 1)] // 36 and 48 logits: rows of several vectors, blocks of 3 and single vectors
    [InlineData(613, 17, 5, 4, 2, true, 1)] // shifted rows, model 2 has left: tiles of 15 and 20 logits, each fold its stride
    [InlineData(301, 20, 7, 3, -1, true, 300)] // huge logits (θ × 300): the shifted product's b′ = b + W·s is large too
    public unsafe void TheStackedGradientIsEachFoldModelsGradientOnItsRows(int n, int d, int k, int folds, int left, bool shifted,
        double scale)
    {
        var random = new Random(n + d * 7 + k * 31 + (shifted ? 1 : 0));
        double[] x = Check.AsDevice(shifted ? SparseLooking(random, n, d) : Check.Normal(random, n * d));
        int[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(k))];
        int[] foldAt = [.. Enumerable.Range(0, n).Select(r => (int)((long)r * r * folds / ((long)n * n)))]; // uneven folds, in order
        int[] members = [.. Enumerable.Range(0, folds).Where(f => f != left)];
        int m = members.Length, p = k * d + k;
        double[][] thetas = [.. members.Select(_ => Check.AsDevice(Check.Normal(random, p, scale)))];
        // θ^(f): [W | b] of the members that learn from fold f, in member order.
        var stacked = new float[folds * m * p];
        for (int f = 0; f < folds; f++)
        {
            int[] learning = [.. Enumerable.Range(0, m).Where(s => members[s] != f)];
            for (int g = 0; g < learning.Length; g++)
            {
                for (int i = 0; i < k * d; i++)
                    stacked[f * m * p + g * k * d + i] = (float)thetas[learning[g]][i];
                for (int c = 0; c < k; c++)
                    stacked[f * m * p + learning.Length * k * d + g * k + c] = (float)thetas[learning[g]][k * d + c];
            }
        }
        int[][] rowsOf = [.. members.Select(f => Enumerable.Range(0, n).Where(r => foldAt[r] != f).ToArray())];
        float[] scales = [.. rowsOf.Select(rows => 1f / rows.Length)];
        var grad = new float[m * p];
        var loss = new double[m];
        var correct = new int[m];
        float[] xf = Check.ToFloat(x);
        ShiftedCsr? sparse = shifted ? ShiftedCsr.Find(xf, n, d, denseFrom: 1, minFeatures: 1) : null;
        Assert.Equal(shifted, sparse is not null);
        fixed (float* px = xf, pt = stacked)
        fixed (int* py = labels, at = foldAt, held = members)
        {
            float** foldTheta = stackalloc float*[folds];
            for (int f = 0; f < folds; f++)
                foldTheta[f] = pt + f * m * p;
            HostStep.Gradient<SoftmaxHead>(new HostStep.Batch(px, null, py, null, n, d, k, sparse?.Pointers() ?? default),
                new HostStep.Stack(m, held, at, foldTheta), null, scales, grad, loss, correct);
        }

        for (int s = 0; s < m; s++)
        {
            int[] rows = rowsOf[s];
            double[] xs = [.. rows.SelectMany(r => x.Skip(r * d).Take(d))];
            (double objective, double[] expected) = ReferenceMath.ObjectiveAndGradient(thetas[s], xs, [.. rows.Select(r => labels[r])],
                null, rows.Length, d, k, 0);
            Check.Close(objective, loss[s] / rows.Length, 1e-6, 1e-5, $"model {members[s]}'s mean loss");
            float[] got = [.. grad.Skip(s * k * d).Take(k * d).Concat(grad.Skip(m * k * d + s * k).Take(k))];
            Check.Close(expected, got, 1e-5, 1e-4, $"model {members[s]}'s gradient [dW | db]");
        }
    }

    /// <summary>
    /// Rows like standardized pixels: each column holds its own value c_j (the image of a raw 0) in about 70% of the rows,
    /// 45% in some columns (no majority: the commonest value must still be found), and normal values elsewhere.
    /// </summary>
    private static double[] SparseLooking(Random random, int n, int d, double share = 0.7)
    {
        double[] common = Check.Normal(random, d);
        var x = new double[n * d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < d; j++)
                x[r * d + j] = random.NextDouble() < (j % 3 == 0 ? 0.45 : share) ? common[j] : 2 * random.NextDouble() - 1;
        }
        return x;
    }

    /// <summary>
    /// A stacked round holds θ of every fold (folds·m·P floats): leave-one-out on emotions (593 folds of 438 parameters,
    /// 154 M floats a round, and once one such copy was kept on each fold's thread: 24 GB, killed for memory) fits side by
    /// side instead; the usual fold counts stack.
    /// </summary>
    [Fact]
    public void ManyFoldsFitSideBySideRatherThanHoldFoldsSquaredCopiesOfTheta()
    {
        Assert.True(SharedPass.Stacks(k: 10, dim: 784, folds: 5)); // MNIST's 5 folds
        Assert.True(SharedPass.Stacks(k: 10, dim: 64, folds: 100)); // digits, 100 folds: 6.5 M floats
        Assert.False(SharedPass.Stacks(k: 6, dim: 72, folds: 593));
        Assert.False(SharedPass.Stacks(k: 2, dim: 64, folds: 5)); // too few logits to gain from stacking
    }

    /// <summary>
    /// Rows sparse enough for the shifted product (<see cref="ShiftedCsr.DenseFrom"/>, 70 features, 16 classes): the stacked
    /// passes and the side-by-side ones read them, and fit each fold at each C as sessions (dense rows) do — labels, class
    /// weights (target rows, each fold its share of Σw), and tag sets (the sigmoid head).
    /// </summary>
    [Theory]
    [InlineData("labels")]
    [InlineData("weighted")]
    [InlineData("tags")]
    public void ShiftedRowsFitEachFoldAsSessionsDo(string rows)
    {
        Gpu gpu = fixture.Gpu();
        const int n = 401, d = 70, k = 16; // (3 − 1)·16 logits a row: a pass that stacks (SharedPass.Stacks)
        var random = new Random(23);
        double[] x = Check.AsDevice(SparseLooking(random, n, d, share: 0.95));
        int[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(k))];
        var set = new EncodedSet(Check.ToFloat(x), labels, null, n, d);
        var options = new TrainOptions { Seed = 3 };
        if (rows == "weighted")
        {
            (set, double sum) = Weighting.Weighted(set, k, [.. Enumerable.Range(0, k).Select(c => 0.5 + 0.1 * c)], null);
            options = options with { WeightSum = sum };
        }
        else if (rows == "tags")
        {
            set = new EncodedSet(set.Features, new int[n], Check.ToFloat(MultiLabelTests.TeacherTags(random, x, n, d, k)), n, d);
            options = options with { Loss = SigmoidCrossEntropy.Instance };
        }
        Assert.True(new SharedPass(set, k, options, Split.StratifiedFolds(set.Labels, 3, options.Seed), 3).ReadsShiftedRows);
        SharedRowsFitAsSessions(gpu, set, k, [0.01, 0.3, 10], options);
    }

    [Fact]
    public void ShiftedRowsAreTheRowsLessEachColumnsCommonestValue()
    {
        const int n = 211, d = 70;
        var random = new Random(5);
        float[] x = Check.ToFloat(SparseLooking(random, n, d));
        ShiftedCsr rows = ShiftedCsr.Find(x, n, d, denseFrom: 1)!;
        for (int j = 0; j < d; j++)
        {
            // The commonest value of column j, counted outright.
            float commonest = Enumerable.Range(0, n).Select(r => x[r * d + j]).GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;
            Assert.Equal(commonest, rows.Shift[j]);
        }
        var rebuilt = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < d; j++)
                rebuilt[r * d + j] = rows.Shift[j];
            for (long e = rows.RowStart[r]; e < rows.RowStart[r + 1]; e++)
            {
                Assert.True(e == rows.RowStart[r] || rows.Columns[e] > rows.Columns[e - 1], "columns increase within a row");
                rebuilt[r * d + rows.Columns[e]] = rows.Values[e] + rows.Shift[rows.Columns[e]];
            }
        }
        Check.Close(x.Select(v => (double)v).ToArray(), rebuilt, 1e-6, 1e-6, "S + 1·sᵀ (x − s rounded to float: off by up to ulp(s))");
        // The same entries by blocks of 64 rows, column by column (the last block short: 211 = 3·64 + 19).
        var byBlocks = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < d; j++)
                byBlocks[r * d + j] = rows.Shift[j];
        }
        Assert.Equal((n + 63) / 64 + 1, rows.BlockStart.Length);
        for (int b = 0; b + 1 < rows.BlockStart.Length; b++)
        {
            for (long item = rows.BlockStart[b]; item < rows.BlockStart[b + 1]; item++)
            {
                Assert.True(item == rows.BlockStart[b] || rows.BlockColumns[item] > rows.BlockColumns[item - 1], "columns increase within a block");
                for (long e = rows.EntryStart[item]; e < rows.EntryStart[item + 1]; e++)
                    byBlocks[(b * 64 + rows.BlockRows[e]) * d + rows.BlockColumns[item]] = rows.BlockValues[e] + rows.Shift[rows.BlockColumns[item]];
            }
        }
        Assert.Equal(rebuilt, byBlocks);
        Assert.InRange(rows.Density, 0.3, 0.45); // 1 − (⅓·0.45 + ⅔·0.7), give or take the draw
        Assert.Null(ShiftedCsr.Find(x, n, d, denseFrom: 0.3)); // too dense to pay
        Assert.Null(ShiftedCsr.Find(Check.ToFloat(Check.Normal(random, n * d)), n, d)); // every value its own: dense
        Assert.Null(ShiftedCsr.Find(new float[n * 63], n, 63, denseFrom: 1)); // all one value, but fewer features than MinFeatures
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // class weights in target rows: each fold's mean over its weights, λ from its share of Σw
    public void EachFoldAtEachCIsTheFitOneAfterAnotherWouldGive(bool weighted)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet digits, int k) = Digits();
        double[] cs = [0.01, 0.1, 1];
        var options = new TrainOptions { Seed = 3 };
        if (weighted)
        {
            (digits, double sum) = Weighting.Weighted(digits, k, [.. Enumerable.Range(0, k).Select(c => 0.5 + 0.25 * c)], null);
            options = options with { WeightSum = sum };
        }
        SharedRowsFitAsSessions(gpu, digits, k, cs, options);
    }

    /// <summary>
    /// A 3-fold path over <paramref name="cs"/> in stacked passes and side by side against sessions: each fold's J within
    /// 1e-6, its held-out log-loss within 1e-3, the same C, and the same refit (the single fit either way).
    /// </summary>
    private static void SharedRowsFitAsSessions(Gpu gpu, EncodedSet set, int k, double[] cs, TrainOptions options)
    {
        PathResult separate = Reported(gpu, set, k, cs, options, FoldPasses.Sessions);
        foreach (FoldPasses passes in new[] { FoldPasses.Stacked, FoldPasses.SideBySide })
        {
            PathResult shared = Reported(gpu, set, k, cs, options, passes);
            for (int i = 0; i < cs.Length; i++)
            {
                Check.Close(separate.Points[i].Objectives, shared.Points[i].Objectives, 0, 1e-6, $"each fold's J at C = {cs[i]}, {passes} vs sessions");
                Check.Close(separate.Points[i].Scores, shared.Points[i].Scores, 0, 1e-3, $"each fold's held-out log-loss at C = {cs[i]}, {passes}");
            }
            Assert.Equal(separate.Chosen, shared.Chosen);
            Assert.Equal(separate.Refit.Theta, shared.Refit.Theta);
        }
    }

    /// <summary>
    /// A 3-fold path run with <see cref="TrainOptions.OnPathFit"/> listening (called from the folds' threads where they
    /// share the rows): every (C, fold) fit reported once, as the result has it.
    /// </summary>
    private static PathResult Reported(Gpu gpu, EncodedSet set, int k, double[] cs, TrainOptions options, FoldPasses passes)
    {
        var fits = new System.Collections.Concurrent.ConcurrentBag<PathFit>();
        PathResult path = CrossValidation.Run(gpu, set, k, cs, folds: 3, PathScore.LogLoss, options with { OnPathFit = fits.Add }, passes: passes);
        Assert.Equal(cs.Length * 3, fits.Select(f => (f.Index, f.Fold)).Distinct().Count());
        Assert.Equal(cs.Length * 3, fits.Count);
        foreach (PathFit fit in fits)
        {
            PathPoint point = path.Points[fit.Index];
            Assert.Equal((point.Value, point.Scores[fit.Fold], point.Objectives[fit.Fold], point.Iterations[fit.Fold], !point.Capped[fit.Fold]),
                (fit.Value, fit.Score, fit.Objective, fit.Iterations, fit.Converged));
        }
        return path;
    }

    /// <summary>
    /// Rows read a block at a time (a .sgd file beyond memory: <see cref="StreamedRows"/>) share the passes as rows in
    /// memory do: blocks of 37 rows, each block's rows taken fold by fold; every fold's J at every C within 1e-6 of the
    /// path in memory, its held-out log-loss within 1e-3, the same C, the refit's J; with class weights, and tag sets.
    /// </summary>
    [Theory]
    [InlineData("labels")]
    [InlineData("class weights")]
    [InlineData("tag sets")]
    public void StreamedRowsShareThePassesAsRowsInMemory(string kind)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet set, int k) = Digits();
        var options = new TrainOptions { Seed = 3 };
        if (kind == "class weights")
        {
            (set, double sum) = Weighting.Weighted(set, k, [.. Enumerable.Range(0, k).Select(c => 0.5 + 0.25 * c)], null);
            options = options with { WeightSum = sum };
        }
        if (kind == "tag sets")
        {
            // Two tags a row: its digit's parity and whether it is above 4 (learnable from the pixels).
            float[] tags = [.. set.Labels.SelectMany(digit => new[] { digit % 2 == 0 ? 1f : 0f, digit > 4 ? 1f : 0f })];
            (set, k, options) = (set with { Labels = new int[set.Rows], Targets = tags }, 2, options with { Loss = SigmoidCrossEntropy.Instance });
        }
        double[] cs = [0.01, 0.1, 1];
        PathResult memory = CrossValidation.Run(gpu, set, k, cs, folds: 3, PathScore.LogLoss, options);
        // 4 KiB of "device memory": the rows do not fit, so the folds stream them (and so does the refit).
        PathResult streamed = CrossValidation.Run(gpu, set, set, set.Labels, k, cs, folds: 3, PathScore.LogLoss,
            options with { DeviceMemory = 4096, StreamBlockRows = 37 });
        for (int i = 0; i < cs.Length; i++)
        {
            Check.Close(memory.Points[i].Objectives, streamed.Points[i].Objectives, 0, 1e-6, $"{kind}: each fold's J at C = {cs[i]}, streamed vs in memory");
            Check.Close(memory.Points[i].Scores, streamed.Points[i].Scores, 0, 1e-3, $"{kind}: each fold's held-out log-loss at C = {cs[i]}");
        }
        Assert.Equal(memory.Chosen, streamed.Chosen);
        Assert.True(streamed.Refit.Plan.Streamed);
        Check.Close(memory.Refit.Objective!.Value, streamed.Refit.Objective!.Value, 0, 1e-6, $"{kind}: the refit's J");
    }

    /// <summary>
    /// The folds' threads score their held-out rows while others do (and while a round runs): streamed rows read by
    /// several scores at once give each the bits it gives alone (a score that shared the rounds' block buffers scored
    /// other folds' rows: MNIST's held-out accuracies fell to 0.6 ± 0.2 at random).
    /// </summary>
    [Fact]
    public void StreamedRowsScoreEachFoldAloneWhileOthersDo()
    {
        (EncodedSet set, int k) = Digits();
        var options = new TrainOptions { Seed = 3, StreamBlockRows = 7 };
        int[] foldOfRow = FoldRows.Assign(set, 3, options);
        var pass = new SharedPass(set, set.Labels, k, options, foldOfRow, 3);
        float[] theta = Check.ToFloat(Check.Normal(new Random(5), pass.Parameters, 0.1));
        (double Loss, double Accuracy)[] alone = [.. Enumerable.Range(0, 3).Select(fold => pass.Score(fold, theta))];
        var together = new (double Loss, double Accuracy)[60];
        Parallel.For(0, together.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => together[i] = pass.Score(i % 3, theta));
        for (int i = 0; i < together.Length; i++)
            Assert.Equal(alone[i % 3], together[i]);
    }

    /// <summary>Tag sets (the sigmoid head): the shared rows fit each fold at each C as sessions do, scored by the held-out tags.</summary>
    [Fact]
    public void TagSetsFitEachFoldAsSessionsDo()
    {
        Gpu gpu = fixture.Gpu();
        const int n = 301, d = 9, k = 4;
        var random = new Random(17);
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        double[] tags = MultiLabelTests.TeacherTags(random, x, n, d, k); // learnable, not separable
        var set = new EncodedSet(Check.ToFloat(x), new int[n], Check.ToFloat(tags), n, d);
        SharedRowsFitAsSessions(gpu, set, k, [0.01, 0.3, 10], new TrainOptions { Loss = SigmoidCrossEntropy.Instance, Seed = 3 });
    }

    [Theory]
    [InlineData(FoldPasses.Stacked, false)]
    [InlineData(FoldPasses.SideBySide, false)]
    [InlineData(FoldPasses.Stacked, true)] // shifted rows (ShiftedTile): two workers, tiles cut at blocks and folds
    public void TheSharedRowsGiveTheSameBitsTwice(FoldPasses passes, bool shifted)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet set, int k) = shifted ? SparseLookingSet(n: 601, d: 70, k: 16) : Digits();
        // Compacting collections all along: a pass's buffers must not move under the workers that read them (a pass that
        // pinned its fold θ only while it laid them out read them from another offset after a collection moved them).
        bool stop = false;
        var churn = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                _ = new byte[1 << 16];
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Thread.Sleep(1);
            }
        });
        churn.Start();
        PathResult[] runs;
        try
        {
            runs = [.. Enumerable.Range(0, 2).Select(_ =>
                CrossValidation.Run(gpu, set, k, [0.03, 0.3], folds: 4, PathScore.Accuracy, new TrainOptions(), passes: passes))];
        }
        finally
        {
            Volatile.Write(ref stop, true);
            churn.Join();
        }
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(runs[0].Points[i].Objectives, runs[1].Points[i].Objectives);
            Assert.Equal(runs[0].Points[i].Scores, runs[1].Points[i].Scores);
            Assert.Equal(runs[0].Points[i].Iterations, runs[1].Points[i].Iterations);
        }
        Assert.Equal(runs[0].Refit.Theta, runs[1].Refit.Theta);
    }

    /// <summary>Sparse-looking rows (<see cref="SparseLooking"/>, 95% of most columns one value) with random classes.</summary>
    private static (EncodedSet Set, int K) SparseLookingSet(int n, int d, int k)
    {
        var random = new Random(n + d + k);
        float[] x = Check.ToFloat(Check.AsDevice(SparseLooking(random, n, d, share: 0.95)));
        return (new EncodedSet(x, [.. Enumerable.Range(0, n).Select(_ => random.Next(k))], null, n, d), k);
    }

    /// <summary>The digits set (1797 × 64, 10 classes), standardized: two workers a pass, tiles across fold boundaries.</summary>
    private static (EncodedSet Set, int K) Digits() =>
        TrainingTests.Encoded(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
}
