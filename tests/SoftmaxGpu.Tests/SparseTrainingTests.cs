using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;
using SoftmaxGpu.Model;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Sparse rows: the host engine's sparse objective against the float64 reference on the same rows made dense
/// (awkward sizes, empty rows, a row of one non-zero, a column in every row, logits to 1e30, implicit centring),
/// training to the dense optimum, the one-pass CSR reader's errors, and the CLI's --sparse and --scale.
/// </summary>
public sealed class SparseTrainingTests() : CliFolder("softmaxgpu-sparse-")
{
    /// <summary>Seeded CSR rows: row 0 empty, row 1 one non-zero, column 0 in every other row, the rest at <paramref name="density"/>.</summary>
    internal static SparseRows RandomRows(Random random, int rows, int d, double density, double valueScale = 1)
    {
        var start = new List<int> { 0 };
        var columns = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                bool present = r switch
                {
                    0 => false,
                    1 => j == d / 2,
                    _ => j == 0 || random.NextDouble() < density,
                };
                if (present)
                {
                    columns.Add(j);
                    values.Add((float)(random.NextDouble() * 2 - 1 + (j == 0 ? 3 : 0)) * (float)valueScale);
                }
            }
            start.Add(columns.Count);
        }
        return new SparseRows([.. start], [.. columns], [.. values], d);
    }

    internal static double[] Dense(SparseRows x)
    {
        var dense = new float[x.Rows * x.Dim];
        x.Densify(0, x.Rows, dense);
        return dense.Select(v => (double)v).ToArray();
    }

    /// <summary>The rows made dense, less <paramref name="centre"/> where given: X − μ, what the centred objective sees.</summary>
    internal static double[] DenseCentred(SparseRows x, double[]? centre)
    {
        double[] dense = Dense(x);
        if (centre is not null)
            for (int r = 0; r < x.Rows; r++)
                for (int j = 0; j < x.Dim; j++)
                    dense[r * x.Dim + j] -= centre[j];
        return dense;
    }

    /// <summary>[Wᵀ | b] → [W | b] in float64 (the reference's layout).</summary>
    internal static double[] Untransposed(double[] transposed, int k, int d)
    {
        var theta = new double[transposed.Length];
        for (int j = 0; j < d; j++)
            for (int c = 0; c < k; c++)
                theta[c * d + j] = transposed[j * k + c];
        Array.Copy(transposed, d * k, theta, k * d, k);
        return theta;
    }

    public static TheoryData<int, int, int, double, double, bool> Shapes => new()
    {
        { 3, 5, 2, 0.5, 1, false },
        { 37, 53, 7, 0.1, 1, false },
        { 613, 301, 3, 0.05, 1, true },   // two workers
        { 700, 97, 43, 0.02, 1, true },   // K of a text set
        { 300, 70, 5, 0.2, 1e29, false },  // logits of about 1e30
        { 41, 17, 1, 0.3, 1, true },       // K = 1: every loss 0, every gradient 0
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheSparseObjectiveIsTheReferenceOnTheSameRowsMadeDense(int rows, int d, int k, double density, double weightScale,
        bool centred)
    {
        var random = new Random(rows * 31 + d * 7 + k);
        SparseRows x = RandomRows(random, rows, d, density);
        int[] labels = Enumerable.Range(0, rows).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, weightScale));
        double[]? centre = centred ? Check.AsDevice(Check.Normal(random, d, 0.5)) : null;
        double lambda = 0.01;

        (double jRef, double[] gRef) = ReferenceMath.ObjectiveAndGradient(theta, DenseCentred(x, centre), labels, null, rows, d, k, lambda);

        var objective = new SparseObjective<SoftmaxHead>(new SparseSet(x, labels), k, centre, lambda);
        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        (double j1, double[] g1, _, _) = objective.Evaluate(transposed);
        (double j2, double[] g2, _, _) = objective.Evaluate(transposed);

        double scale = Math.Max(1, weightScale);
        Check.Close(jRef, j1, 1e-6 * scale, 1e-5, "J");
        Check.Close(gRef, Untransposed(g1, k, d), 1e-6 * scale, 1e-4, "∇J");
        Assert.Equal(j1, j2); // deterministic: the same bits
        Assert.Equal(g1, g2);
    }

    // (rows, D, K, workers, weight scale, centred): more workers than rows (empty shards), K of debian-text (57: rows
    // padded to whole vectors), K of one AVX2 vector, logits of about 1e30, K = 1.
    public static TheoryData<int, int, int, int, double, bool> WorkerShapes => new()
    {
        { 3, 5, 2, 5, 1, true },
        { 37, 53, 57, 3, 1, true },
        { 613, 301, 8, 4, 1, true },
        { 300, 70, 43, 2, 1e29, false },
        { 41, 17, 1, 3, 1, true },
    };

    /// <summary>
    /// The host engine's pass itself (<see cref="SparseHostStep.Gradient{THead}"/>) with 1 to 5 workers whatever the
    /// cores: each worker its own rows of Z and segment of every column, ∇ finished as it is written (scale, centring,
    /// penalty), against the float64 reference on the same rows made dense.
    /// </summary>
    [Theory]
    [MemberData(nameof(WorkerShapes))]
    public unsafe void TheHostPassIsTheReferenceWithAnyNumberOfWorkers(int rows, int d, int k, int workers, double weightScale,
        bool centred)
    {
        var random = new Random(rows * 13 + d + k * 7 + workers);
        SparseRows x = RandomRows(random, rows, d, 0.1);
        int[] labels = Enumerable.Range(0, rows).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, weightScale));
        double[]? centre = centred ? Check.AsDevice(Check.Normal(random, d, 0.5)) : null;
        double lambda = 0.01;
        (double jRef, double[] gRef) = ReferenceMath.ObjectiveAndGradient(theta, DenseCentred(x, centre), labels, null, rows, d, k, lambda);

        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        var xt = Kernels.Sparse.CscCopy.Of(x.RowStart, x.Columns, x.Values, d);
        var buffers = new SparseHostStep.Buffers(rows, k, workers);
        Assert.Equal(k < System.Numerics.Vector<float>.Count ? k : 0, buffers.Stride % System.Numerics.Vector<float>.Count);
        (double J, double[] Gradient) Pass()
        {
            var gradient = new double[k * d + k];
            fixed (int* rowStart = x.RowStart, columns = x.Columns, columnStart = xt.ColumnStart, columnRows = xt.Rows, y = labels)
            fixed (float* values = x.Values, columnValues = xt.Values)
            fixed (double* t = transposed, mu = centre, g = gradient)
            {
                var csr = new SparseHostStep.Csr(rowStart, columns, values, rows, d);
                var csc = new SparseHostStep.Csc(columnStart, columnRows, columnValues);
                var targets = new HostStep.Batch(null, null, y, null, rows, d, k);
                var model = new SparseHostStep.Model(t, mu, 1.0 / rows, lambda, uncentre: true);
                (double loss, _, double squares) = SparseHostStep.Gradient<SoftmaxHead>(csr, csc, targets, model, buffers, g);
                return (loss / rows + 0.5 * lambda * squares, gradient);
            }
        }
        (double j1, double[] g1) = Pass();
        (double j2, double[] g2) = Pass();

        double scale = Math.Max(1, weightScale);
        Check.Close(jRef, j1, 1e-6 * scale, 1e-5, "J");
        Check.Close(gRef, Untransposed(g1, k, d), 1e-6 * scale, 1e-4, "∇J");
        Assert.Equal(j1, j2); // deterministic: the same bits, the buffers reused
        Assert.Equal(g1, g2);
    }

    [Fact]
    public void ScoringGivesTheMeanLossAndAccuracyOfTheRows()
    {
        var random = new Random(5);
        SparseRows x = RandomRows(random, 101, 23, 0.2);
        int[] labels = Enumerable.Range(0, 101).Select(_ => random.Next(4)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, 4 * 23 + 4));
        (double jRef, _) = ReferenceMath.ObjectiveAndGradient(theta, Dense(x), labels, null, 101, 23, 4, 0);
        var objective = new SparseObjective<SoftmaxHead>(new SparseSet(x, labels), 4, null, 0);
        (double loss, double accuracy) = objective.Score(SparseTraining.Transposed(Check.ToFloat(theta), 4, 23), new SparseSet(x, labels));
        Check.Close(jRef, loss, 1e-6, 1e-5, "mean loss");
        (_, _, double trainLoss, double trainAccuracy) = objective.Evaluate(SparseTraining.Transposed(Check.ToFloat(theta), 4, 23));
        Check.Close(trainLoss, loss, 0, 1e-6, "loss: training pass (Z by column) and scoring (Z by row)");
        Assert.Equal(trainAccuracy, accuracy);
    }

    /// <summary>Digits (51% non-zero) as sparse rows: L-BFGS reaches the dense rows' optimum, centred implicitly.</summary>
    [Theory]
    [InlineData(FeatureScaling.Std)]
    [InlineData(FeatureScaling.MaxAbs)]
    public void SparseTrainingReachesTheDenseOptimum(FeatureScaling scaling)
    {
        Table table = DataSource.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), "digit", testSplit: false);
        Table dense = new(table.Source, table.FeatureNames, table.LabelName, table.Features, table.Labels) { Sparse = true };
        SparseTable sparse = Sparsify(dense);
        var options = new TrainOptions { Optimizer = "lbfgs", Scale = scaling };
        using Gpu host = Gpu.Open("host");
        (SoftmaxModel denseModel, TrainResult denseResult) = Pipeline.Train(host, dense, null, options);
        (SoftmaxModel sparseModel, TrainResult sparseResult) = Pipeline.TrainSparse(host, sparse, null, options);
        Check.Close(denseResult.Objective!.Value, sparseResult.Objective!.Value, 0, 1e-6, "J at the optimum");
        Assert.True(sparseResult.Converged, sparseResult.StopReason);
        Assert.All(sparseModel.Standardizer.Mean, m => Assert.Equal(0, m)); // the centre is in the bias
        Check.Close(denseModel.Standardizer.Std, sparseModel.Standardizer.Std, 0, 1e-12, "std");
    }

    /// <summary>Label smoothing and class weights on sparse rows: the dense rows' objective (targets from the class, Σw in λ).</summary>
    [Theory]
    [InlineData(0.1f, null)]
    [InlineData(0f, "balanced")]
    [InlineData(0.05f, "0=3,7=0.5")]
    public void SmoothingAndClassWeightsOnSparseRowsReachTheDenseOptimum(float smoothing, string? classWeight)
    {
        Table table = DataSource.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), "digit", testSplit: false);
        Table dense = new(table.Source, table.FeatureNames, table.LabelName, table.Features, table.Labels) { Sparse = true };
        var options = new TrainOptions { Optimizer = "lbfgs", LabelSmoothing = smoothing, ClassWeight = classWeight };
        using Gpu host = Gpu.Open("host");
        (_, TrainResult denseResult) = Pipeline.Train(host, dense, null, options);
        (_, TrainResult sparseResult) = Pipeline.TrainSparse(host, Sparsify(dense), null, options);
        Assert.Equal(denseResult.Plan.WeightDecay, sparseResult.Plan.WeightDecay, 1e-15);
        Check.Close(denseResult.Objective!.Value, sparseResult.Objective!.Value, 0, 1e-6, "J at the optimum");
    }

    internal static SparseTable Sparsify(Table table)
    {
        var start = new List<int> { 0 };
        var columns = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < table.Rows; r++)
        {
            for (int j = 0; j < table.Dim; j++)
                if (table.Features[r * table.Dim + j] != 0)
                {
                    columns.Add(j);
                    values.Add(table.Features[r * table.Dim + j]);
                }
            start.Add(columns.Count);
        }
        return new SparseTable(table.Source, table.FeatureNames, table.LabelName,
            new SparseRows([.. start], [.. columns], [.. values], table.Dim), table.Labels);
    }

    /// <summary>A model over sparse rows predicts what it predicts over the same rows made dense, on the dense engine.</summary>
    [Fact]
    public void SparsePredictionIsTheDensePredictionOfTheSameRows()
    {
        var random = new Random(23);
        const int n = 4100, d = 29, k = 6; // one full block of SparsePrediction.BlockRows and a short one
        SparseRows x = RandomRows(random, n, d, 0.15);
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        var standardizer = new Standardizer(Check.Normal(random, d, 0.3), Enumerable.Range(0, d).Select(_ => 0.5 + random.NextDouble()).ToArray());
        var model = new SoftmaxModel("label", Enumerable.Range(0, k).Select(c => $"c{c}").ToArray(),
            Enumerable.Range(1, d).Select(j => $"{j}").ToArray(), standardizer,
            Check.ToFloat(Check.Normal(random, k * d)), Check.ToFloat(Check.Normal(random, k)));

        var sparsePredicted = new int[n];
        var sparseQ = new float[n * k];
        double? sparseLoss = SparsePrediction.Predict(model, x, labels, withLabels: true, block =>
        {
            block.Predicted.AsSpan(0, block.Rows).CopyTo(sparsePredicted.AsSpan((int)block.Start));
            block.Probabilities.AsSpan(0, block.Rows * k).CopyTo(sparseQ.AsSpan((int)block.Start * k));
        });
        var dense = new float[n * d];
        x.Densify(0, n, dense);
        using Gpu host = Gpu.Open("host");
        var densePredicted = new int[n];
        var denseQ = new float[n * k];
        double? denseLoss = Pipeline.Predict(host, model, new EncodedSet(standardizer.Apply(dense), labels, null, n, d), true, block =>
        {
            block.Predicted.AsSpan(0, block.Rows).CopyTo(densePredicted.AsSpan((int)block.Start));
            block.Probabilities.AsSpan(0, block.Rows * k).CopyTo(denseQ.AsSpan((int)block.Start * k));
        });
        Check.Close(denseLoss!.Value, sparseLoss!.Value, 1e-6, 1e-5, "mean loss");
        Check.Close(denseQ.Select(v => (double)v).ToArray(), sparseQ, 1e-5, 1e-4, "probabilities");
        Assert.True(densePredicted.Zip(sparsePredicted).Count(p => p.First != p.Second) <= 2, "predicted classes differ beyond ties");
    }

    [Fact]
    public void TheStatisticsOfTheNonZerosAreThoseOfTheDenseRows()
    {
        var random = new Random(11);
        SparseRows x = RandomRows(random, 57, 19, 0.3);
        var table = new SparseTable("t", Enumerable.Range(1, 19).Select(i => $"{i}").ToArray(), "label", x, new string[57]);
        var dense = new float[57 * 19];
        x.Densify(0, 57, dense);
        Standardizer reference = Standardizer.Fit(dense, 57, 19);
        Standardizer got = table.Statistics();
        Check.Close(reference.Mean, got.Mean, 1e-12, 1e-9, "mean");
        Check.Close(reference.Std, got.Std, 1e-12, 1e-9, "std");
        Standardizer maxAbs = table.Statistics(FeatureScaling.MaxAbs);
        Assert.Equal(Standardizer.Fit(dense, 57, 19, FeatureScaling.MaxAbs).Std, maxAbs.Std); // max |x|: exact either way
        Assert.All(table.Statistics(FeatureScaling.None).Std, s => Assert.Equal(1, s));
    }

    [Theory]
    [MemberData(nameof(LibSvmTests.Malformed), MemberType = typeof(LibSvmTests))]
    public void TheOnePassReaderNamesFileLineAndColumnOfEveryMalformedToken(string name, string text, int? features, bool zeroBased,
        int line, int column, string problem)
    {
        string path = Write("bad.libsvm", text);
        var options = new LibSvmOptions { Features = features, ZeroBased = zeroBased, FeaturesFrom = $"--features {features}" };
        var error = Assert.Throws<DataFormatException>(() => SparseTable.Read(path, options));
        Assert.Contains($"{path}: line {line}, column {column}: ", error.Message);
        Assert.True(error.Message.Contains(problem, StringComparison.Ordinal), $"{name}: {error.Message}");
    }

    [Fact]
    public void TheOnePassReaderTakesDFromTheLargestIndexAndKeepsRowsSparse()
    {
        SparseTable table = SparseTable.Read(Write("a.libsvm", "# c\ncat 2:0.5 7:-2\n\ndog\ncat 1:3\n"), new LibSvmOptions());
        Assert.Equal(7, table.Dim);
        Assert.Equal(["cat", "dog", "cat"], table.Labels);
        Assert.Equal([0, 2, 2, 3], table.X.RowStart);
        Assert.Equal([1, 6, 0], table.X.Columns);
        Assert.Equal([0.5f, -2f, 3f], table.X.Values);
        Assert.Throws<DataFormatException>(() => SparseTable.Read(Write("b.libsvm", "a\nb\n"), new LibSvmOptions()));
        Assert.Equal(4, SparseTable.Read(PathOf("b.libsvm"), new LibSvmOptions { Features = 4 }).Dim);
    }

    /// <summary>A LIBSVM file of digits written here: the CSV's rows as index:value of the non-zeros.</summary>
    private string DigitsLibSvm(string name)
    {
        Table table = DataSource.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), "digit", testSplit: false);
        var lines = new List<string>();
        for (int r = 0; r < table.Rows; r++)
            lines.Add(table.Labels[r] + string.Concat(Enumerable.Range(0, table.Dim)
                .Where(j => table.Features[r * table.Dim + j] != 0)
                .Select(j => FormattableString.Invariant($" {j + 1}:{table.Features[r * table.Dim + j]}"))));
        return Write(name, string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void TheCliTrainsSparseRowsAndSaysSoAndTheModelPredictsAsTheDenseOne()
    {
        string data = DigitsLibSvm("digits.libsvm");
        var sparse = Run("train", "--data", data, "--sparse", "on", "--model", PathOf("s.model"), "--quiet");
        Assert.True(sparse.Code == 0, sparse.Err);
        Assert.Contains("kept sparse", sparse.Out);
        Assert.Contains("engine: host engine, sparse rows", sparse.Out);
        var dense = Run("train", "--data", data, "--model", PathOf("d.model"), "--quiet"); // auto: 51% dense
        Assert.True(dense.Code == 0, dense.Err);
        Assert.Contains("rows made dense: density 51", dense.Out);

        var sparseEval = Run("evaluate", "--model", PathOf("s.model"), "--data", data);
        var denseEval = Run("evaluate", "--model", PathOf("d.model"), "--data", data);
        Assert.Equal(0, sparseEval.Code);
        Assert.Contains("engine: host engine, sparse rows (sparse rows are predicted on the host whatever --device)", sparseEval.Err);
        Assert.DoesNotContain("device: ", sparseEval.Err);
        Assert.Equal(Line(denseEval.Out, "accuracy"), Line(sparseEval.Out, "accuracy"));
    }

    /// <summary>
    /// --device cpu trains sparse rows on ILGPU's CPU accelerator (the device's sparse kernels, rows resident) and says
    /// so; --device host on the host engine; under a small --device-memory the rows stream through the device in
    /// blocks; all reach the same model. A budget too small for θ and one row is one error line before training,
    /// which names the host engine.
    /// </summary>
    [Fact]
    public void TheCliTrainsSparseRowsOnTheDeviceAskedForAndSaysWhichEngine()
    {
        var random = new Random(31);
        var lines = Enumerable.Range(0, 60).Select(r =>
        {
            int label = random.Next(3);
            var features = Enumerable.Range(1, 12).Where(j => j % 3 == label || random.NextDouble() < 0.2)
                .Select(j => FormattableString.Invariant($" {j}:{random.NextDouble() + (j % 3 == label ? 1 : 0):F3}"));
            return $"c{label}" + string.Concat(features);
        });
        string data = Write("x.libsvm", string.Join("\n", lines) + "\n");

        var onCpu = Run("train", "--data", data, "--sparse", "on", "--device", "cpu", "--model", PathOf("cpu.model"), "--quiet");
        Assert.True(onCpu.Code == 0, onCpu.Err);
        Assert.Contains("engine: cpu kernels, sparse rows resident on the device", onCpu.Out);
        Assert.Contains("device: cpu: ", onCpu.Err);
        Assert.DoesNotContain("warning", onCpu.Err);
        var onHost = Run("train", "--data", data, "--sparse", "on", "--device", "host", "--model", PathOf("host.model"), "--quiet");
        Assert.True(onHost.Code == 0, onHost.Err);
        Assert.Contains("engine: host engine, sparse rows", onHost.Out);
        SoftmaxModel cpuModel = ModelFile.Load(PathOf("cpu.model")), hostModel = ModelFile.Load(PathOf("host.model"));
        Check.Close(hostModel.Weights.Select(w => (double)w).ToArray(), cpuModel.Weights, 1e-2, 1e-2, "W");

        var streamed = Run("train", "--data", data, "--sparse", "on", "--device", "cpu", "--device-memory", "4KiB",
            "--model", PathOf("streamed.model"), "--quiet");
        Assert.True(streamed.Code == 0, streamed.Err);
        Assert.Matches(@"engine: cpu kernels, sparse rows streamed through the device in \d+ blocks", streamed.Out);
        SoftmaxModel streamedModel = ModelFile.Load(PathOf("streamed.model"));
        Check.Close(hostModel.Weights.Select(w => (double)w).ToArray(), streamedModel.Weights, 1e-2, 1e-2, "W, rows streamed");

        var tooSmall = Run("train", "--data", data, "--sparse", "on", "--device", "cpu", "--device-memory", "600",
            "--model", PathOf("small.model"));
        Assert.Equal(1, tooSmall.Code);
        Assert.Single(tooSmall.Err.Trim().Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("error: sparse rows streamed through the device need at least", tooSmall.Err);
        Assert.Contains("--device cpu: --device-memory", tooSmall.Err);
        Assert.Contains("--device host", tooSmall.Err);
        Assert.False(File.Exists(PathOf("small.model")));
    }

    private static string Line(string text, string start) =>
        text.Split('\n').First(l => l.TrimStart().StartsWith(start, StringComparison.Ordinal));

    [Theory]
    [InlineData("--optimizer", "adam", "sparse rows train with lbfgs only")]
    [InlineData("--batch-size", "2", "sparse rows train with lbfgs only")]
    public void OptionsTheSparsePathLacksAreOneErrorLine(string option, string value, string message)
    {
        string data = Write("x.libsvm", "a 1:1 5:2\nb 2:1\na 3:1\nb 4:2 5:1\n");
        var run = Run("train", "--data", data, "--sparse", "on", "--model", PathOf("m"), option, value);
        Assert.Equal(1, run.Code);
        Assert.StartsWith("error: --sparse on: ", run.Err.Trim());
        Assert.Contains(message, run.Err);
        Assert.Single(run.Err.Trim().Split('\n'));
        Assert.False(File.Exists(PathOf("m")));
    }

    [Fact]
    public void AFeatureCountBeyondMemoryIsAnErrorBeforeAnyTrainingBuffer()
    {
        string data = Write("wide.libsvm", "a 1:1 5:2\nb 2:1\n");
        var run = Run("train", "--data", data, "--features", "2147483647", "--model", PathOf("m"));
        Assert.Equal(1, run.Code);
        Assert.Contains("sparse training needs", run.Err);
        Assert.Contains("2147483647 features", run.Err);
        Assert.Single(run.Err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void BenchTimesTheSparseEvaluationOfASparseShape(string device)
    {
        var run = Run("bench", "301x517x5@0.01", "--steps", "2", "--copy-mib", "4", "--device", device, "--json");
        Assert.True(run.Code == 0, run.Err);
        using var json = System.Text.Json.JsonDocument.Parse(run.Out.Trim().Split('\n')[^1]);
        Assert.Equal(5 * 301, json.RootElement.GetProperty("nnz").GetInt64());
        Assert.True(json.RootElement.GetProperty("eval_ms").GetDouble() > 0);
        var mixed = Run("bench", "301x517x5@0.01", "100x10x3", "--device", device);
        Assert.Equal(1, mixed.Code);
        Assert.Contains("not both", mixed.Err);
        var bad = Run("bench", "301x517x5@2", "--device", device);
        Assert.Contains("density in (0, 1]", bad.Err);
    }

    [Fact]
    public void ScaleNoneTrainsTheRawRowsAndTheModelKeepsNoScaling()
    {
        string data = DigitsLibSvm("raw.libsvm");
        var run = Run("train", "--data", data, "--sparse", "on", "--scale", "none", "--model", PathOf("raw.model"), "--quiet");
        Assert.True(run.Code == 0, run.Err);
        SoftmaxModel model = ModelFile.Load(PathOf("raw.model"));
        Assert.All(model.Standardizer.Std, s => Assert.Equal(1, s));
        Assert.All(model.Standardizer.Mean, m => Assert.Equal(0, m));
    }
}
