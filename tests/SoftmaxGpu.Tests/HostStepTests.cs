using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;
using SoftmaxGpu.Tests.Reference;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The host engine's gradient and forward pass against the float64 reference, on awkward sizes (not multiples of
/// the tile, the vector width or the worker split), gathered rows, soft targets and logits up to 1e30.
/// </summary>
public sealed class HostStepTests
{
    public static TheoryData<int, int, int, double> Shapes => new()
    {
        { 1, 1, 2, 1 },
        { 37, 7, 5, 1 },
        { 613, 33, 3, 1 },   // two workers, a last tile of 37 rows
        { 301, 784, 10, 1 },
        { 70, 1024, 3, 1 },   // rows 4 KiB apart: restaged at a padded stride
        { 613, 33, 3, 1e29 }, // logits of about 1e30
        { 37, 7, 5, 1e29 },
        { 613, 33, 37, 1 },   // K ≥ HostStep.TransposedClasses: logits through the tile's Xᵀ
        { 300, 70, 34, 1e29 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void GradientAndForwardMatchTheReference(int b, int d, int k, double weightScale)
    {
        var random = new Random(b * 31 + d * 7 + k);
        int n = b + 11; // the batch gathers b of n rows, in a shuffled order
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, weightScale));
        int[] order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(b).ToArray();
        double[] soft = new double[n * k];
        for (int r = 0; r < n; r++)
        {
            double[] p = Enumerable.Range(0, k).Select(_ => random.NextDouble()).ToArray();
            for (int c = 0; c < k; c++)
                soft[r * k + c] = (float)(p[c] / p.Sum());
        }

        double[] weighted = KernelTests.WeightedTargets(random, soft, n, k); // rows summing to their weight, not 1

        // The reference sees the gathered rows.
        double[] xb = order.SelectMany(r => x.Skip(r * d).Take(d)).ToArray();
        int[] yb = order.Select(r => labels[r]).ToArray();
        float[] xf = Check.ToFloat(x), tf = Check.ToFloat(theta), sf = Check.ToFloat(soft), wf = Check.ToFloat(weighted);
        fixed (float* px = xf, pt = tf, ps = sf, pw = wf)
        fixed (int* py = labels, po = order)
        {
            foreach (string kind in new[] { "hard", "soft", "weighted" })
            {
                bool hard = kind == "hard";
                double[] all = kind == "soft" ? soft : weighted;
                double[] sb = order.SelectMany(r => all.Skip(r * k).Take(k)).ToArray();
                double[]? targets = hard ? null : sb;
                var batch = new HostStep.Batch(px, po, py, hard ? null : kind == "soft" ? ps : pw, b, d, k);
                (double objective, double[] expected) = ReferenceMath.ObjectiveAndGradient(theta, xb, yb, targets, b, d, k, 0);
                double[] z = ReferenceMath.Logits(xb, theta[..(k * d)], theta[(k * d)..], b, d, k);
                double[] y = ReferenceMath.Targets(yb, targets, b, k);
                string what = $"{kind} {b}×{d}×{k}, |W| ~ {weightScale:G2}";

                var grad = new float[k * d + k];
                (double loss, int correct) = HostStep.Gradient<SoftmaxHead>(batch, pt, 1f / b, grad);
                Check.Close(expected, grad, 1e-5, 1e-4, $"∇ of {what}");
                Check.Close(objective, loss / b, 1e-5, 1e-5, $"loss of {what}");
                Assert.Equal(ReferenceMath.Correct(z, y, b, k), correct);
                var again = new float[grad.Length];
                Assert.Equal(loss, HostStep.Gradient<SoftmaxHead>(batch, pt, 1f / b, again).Loss);
                Assert.Equal(grad, again); // deterministic, bit for bit

                // The forward pass takes rows in place: gather them first, as the engine's blocks are.
                float[] gathered = Check.ToFloat(xb);
                int[] gatheredLabels = yb;
                float[] gatheredSoft = Check.ToFloat(sb);
                var logits = new float[b * k];
                var outputs = new float[b * k];
                var stats = new float[2 * b];
                fixed (float* gx = gathered, gs = gatheredSoft, pz = logits, pq = outputs, pm = stats)
                fixed (int* gy = gatheredLabels)
                {
                    var rows = new HostStep.Batch(gx, null, gy, hard ? null : gs, b, d, k);
                    (double forwardLoss, int forwardCorrect) = HostStep.Forward<SoftmaxHead>(rows, pt, true, pz, pq, pm);
                    (double[] q, double[] lse) = ReferenceMath.Softmax(z, b, k);
                    // z sums d terms of size |W|·|x|: its rounding is relative to them, not to z (they cancel at 1e30).
                    Check.Close(z, logits, 1e-6 * weightScale * d, 1e-5, $"Z of {what}");
                    Check.Close(q, outputs, 1e-6, 1e-5, $"Q of {what}");
                    Check.Close(lse, Enumerable.Range(0, b).Select(r => (float)((double)stats[2 * r] + stats[2 * r + 1])).ToArray(),
                        1e-6 * weightScale * d, 1e-5, $"log-sum-exp of {what}");
                    Check.Close(objective, forwardLoss / b, 1e-5, 1e-5, $"forward loss of {what}");
                    Assert.Equal(correct, forwardCorrect);
                }
            }
        }
    }

    // The tile kernels at both vector widths, whatever this CPU runs (Vector512 works without AVX-512, slowly):
    // every block shape and tail — 4×3, 4×2 and 4×1 logits, the transposed logits' 4-, 2- and 1-class blocks (the
    // blocks for 32 and for 16 vector registers, whichever this CPU has) and 4 × 4 turns of X, 4-class × 3-vector,
    // 4×1, 2-class × 6-vector and 2×1 dW blocks, masked last vectors (logits and 4-class dW tails), scalar columns and
    // an odd last class; the logits with the next tile read ahead (the tile's own rows again: the result is the same).
    [Theory]
    [InlineData(13, 200, 11)]
    [InlineData(64, 784, 10)]
    [InlineData(5, 33, 7)]
    [InlineData(3, 7, 1)]
    [InlineData(9, 5, 6)] // rows shorter than a vector: dW's 4-class tail from zero-padded copies
    [InlineData(62, 130, 37)]
    public unsafe void TileKernelsMatchTheReferenceAtEveryWidth(int rows, int d, int k)
    {
        var random = new Random(rows + d + k);
        double[] x = Check.AsDevice(Check.Normal(random, rows * d));
        double[] w = Check.AsDevice(Check.Normal(random, k * d));
        double[] b = Check.AsDevice(Check.Normal(random, k));
        double[] g = Check.AsDevice(Check.Normal(random, rows * k));
        double[] z = ReferenceMath.Logits(x, w, b, rows, d, k);
        (double[] dw, _) = ReferenceMath.ParameterGradient(g, x, rows, d, k);
        double[] start = Check.AsDevice(Check.Normal(random, k * d)); // dW is added to
        double[] expected = dw.Zip(start, (a, s) => a + s).ToArray();
        float[] xf = Check.ToFloat(x), wf = Check.ToFloat(w), bf = Check.ToFloat(b), gf = Check.ToFloat(g);
        var pointers = new nint[rows];
        foreach (string width in new[] { "512", "T" })
        {
            var zf = new float[rows * k];
            float[] dwf = Check.ToFloat(start);
            fixed (float* px = xf, pw = wf, pb = bf, pg = gf, pz = zf, pdw = dwf)
            fixed (nint* pr = pointers)
            {
                for (int r = 0; r < rows; r++)
                    pr[r] = (nint)(px + (long)r * d);
                var ahead = new Ahead(pr, rows, d);
                if (width == "512")
                {
                    HostTile.Logits<Floats512>(pr, rows, pw, pb, d, k, pz, ahead);
                    HostTile.AddGradient<Floats512>(pr, rows, pg, d, k, pdw);
                }
                else
                {
                    HostTile.Logits<FloatsT>(pr, rows, pw, pb, d, k, pz, ahead);
                    HostTile.AddGradient<FloatsT>(pr, rows, pg, d, k, pdw);
                }
            }
            Check.Close(z, zf, 1e-5, 1e-5, $"Z, {rows}×{d}×{k}, width {width}");
            foreach (bool many in new[] { true, false })
            {
                Check.Close(z, TransposedLogits(xf, wf, bf, rows, d, k, width, many), 1e-5, 1e-5,
                    $"Z through Xᵀ, {rows}×{d}×{k}, width {width}, {(many ? 32 : 16)} registers");
            }
            Check.Close(expected, dwf, 1e-5, 1e-5, $"dW, {rows}×{d}×{k}, width {width}");
        }
    }

    // The read-ahead: whatever the calls of a block, each row of the next tile that the block's rows face is taken by
    // exactly one call (a row left out is read from memory when its tile comes; the arithmetic does not change).
    [Theory]
    [InlineData(0, 4, 4, 64)]  // 4 rows, 4 calls (K = 10: 2 blocks of 3, 2 pairs)
    [InlineData(60, 4, 1, 64)] // one call takes 4 rows
    [InlineData(8, 4, 3, 10)]  // a short next tile: rows from 10 on are not there
    [InlineData(0, 64, 70, 64)] // the transposed logits: more calls than rows
    [InlineData(0, 64, 7, 13)]
    public void TheReadAheadTakesEachRowOnce(int first, int n, int calls, int count)
    {
        var taken = new List<int>();
        for (int call = 0; call < calls; call++)
        {
            (int from, int to) = Ahead.Rows(first, n, call, calls, count);
            Assert.True(from <= to, $"call {call}: [{from}, {to})");
            taken.AddRange(Enumerable.Range(from, to - from));
        }
        Assert.Equal(Enumerable.Range(first, Math.Max(0, Math.Min(count, first + n) - first)), taken);
    }

    /// <summary>Z of a tile through <see cref="HostTile.LogitsTransposed{TV}"/>, its scratch first filled with NaN (columns past the rows are never read).</summary>
    private static unsafe float[] TransposedLogits(float[] x, float[] w, float[] b, int rows, int d, int k, string width, bool manyRegisters)
    {
        var z = new float[rows * k];
        var scratch = new float[HostStep.TileRows * (d + k)];
        Array.Fill(scratch, float.NaN);
        var pointers = new nint[rows];
        fixed (float* px = x, pw = w, pb = b, pz = z, ps = scratch)
        fixed (nint* pr = pointers)
        {
            for (int r = 0; r < rows; r++)
                pr[r] = (nint)(px + (long)r * d);
            float* zt = ps + (long)HostStep.TileRows * d;
            var ahead = new Ahead(pr, rows, d);
            if (width == "512")
                HostTile.LogitsTransposed<Floats512>(pr, rows, pw, pb, d, k, pz, ps, zt, ahead, manyRegisters);
            else
                HostTile.LogitsTransposed<FloatsT>(pr, rows, pw, pb, d, k, pz, ps, zt, ahead, manyRegisters);
        }
        return z;
    }

    [Fact]
    public unsafe void EqualHugeLogitsGiveAnExactUniformSoftmax()
    {
        // W = 0 and b = [1e30 ×4, −1e30]: the loss is log 4 although 1e30 + log 4 rounds to 1e30 in float32.
        float[] theta = [0f, 0f, 0f, 0f, 0f, 1e30f, 1e30f, 1e30f, 1e30f, -1e30f];
        float[] x = [1f];
        int[] y = [2];
        var grad = new float[theta.Length];
        fixed (float* px = x, pt = theta)
        fixed (int* py = y)
        {
            var batch = new HostStep.Batch(px, null, py, null, 1, 1, 5);
            (double loss, _) = HostStep.Gradient<SoftmaxHead>(batch, pt, 1f, grad);
            Check.Close(Math.Log(4), loss, 1e-6, 1e-6, "loss of a uniform row at 1e30");
            Check.Close([0.25, 0.25, -0.75, 0.25, 0], grad[5..], 1e-7, 1e-6, "db at 1e30");
        }
    }
}
