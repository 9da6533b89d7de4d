using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Data-parallel training under a real MPI launcher: the built CLI started by <c>mpirun -np 2</c> (MPICH's where
/// installed, else whichever <c>mpirun</c> is on PATH), against the same training in one process. Skips, saying
/// why, where there is no launcher, except where <c>SOFTMAXGPU_REQUIRE_MPI=1</c> (CI, after .ci/install-mpi): there
/// a missing launcher fails. The digits set (1797 × 64, 10 classes) is split into 1400 training rows, converted
/// to a .sgd file of 100-row blocks, and 397 test rows.
/// </summary>
public sealed class MpiTests() : CliFolder("softmaxgpu-mpi-")
{
    private const int TrainRows = 1400;
    /// <summary>Longest a launch may take before the test calls it a hang (they take a few seconds).</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(90);

    public static bool Required => Environment.GetEnvironmentVariable("SOFTMAXGPU_REQUIRE_MPI") == "1";

    [Fact]
    public void LbfgsOnTwoRanksReachesTheOneProcessOptimumAndPredictsAlike()
    {
        string[] launcher = Launcher();
        (string train, string test) = Digits();
        var one = Run("train", "--data", train, "--model", PathOf("one.model"), "--device", "host", "--quiet",
            "--log-json", PathOf("one.jsonl"));
        Assert.True(one.Code == 0, one.Err);

        var two = Launch(launcher, 2, "train", "--data", train, "--model", PathOf("two.model"), "--device", "host", "--quiet",
            "--log-json", PathOf("two.jsonl"));
        Assert.True(two.Code == 0, $"mpirun exited {two.Code}\n{two.Err}");
        Assert.Single(two.Out.Split('\n'), line => line.StartsWith("model:", StringComparison.Ordinal)); // rank 0 alone reports
        Assert.Contains("device: rank 1 of 2", two.Err);

        double single = FinalObjective(PathOf("one.jsonl")), parallel = FinalObjective(PathOf("two.jsonl"));
        Assert.True(Math.Abs(parallel - single) <= 1e-6 * Math.Abs(single),
            $"2 ranks reached J = {parallel:R}, 1 process J = {single:R}: relative difference {Math.Abs(parallel - single) / single:G3} > 1e-6");

        string[] predictedOne = Predict(PathOf("one.model"), test), predictedTwo = Predict(PathOf("two.model"), test);
        int[] differ = Enumerable.Range(0, predictedOne.Length).Where(i => predictedOne[i] != predictedTwo[i]).ToArray();
        Assert.True(differ.Length == 0, $"{differ.Length} of {predictedOne.Length} test rows predicted differently, first rows " +
                                        string.Join(", ", differ.Take(5).Select(i => $"{i}: {predictedOne[i]} vs {predictedTwo[i]}")));
    }

    [Fact]
    public void ARankReadingACorruptBlockEndsTheJobWithItsMessage()
    {
        string[] launcher = Launcher();
        (string train, _) = Digits();
        // A byte 80% of the way through the rows' bytes: a block of rows 1100–1199, rank 1's half (rows 700–1399).
        long rowsEnd = SgdFormat.FooterOffset(TrainRows, 64, 100);
        using (FileStream file = File.OpenWrite(train))
        {
            file.Position = SgdFormat.PreambleBytes + (long)(0.8 * (rowsEnd - SgdFormat.PreambleBytes));
            file.WriteByte(0x5a);
        }
        var clock = Stopwatch.StartNew();
        var result = Launch(launcher, 2, "train", "--data", train, "--model", PathOf("never.model"), "--device", "host", "--quiet");
        Assert.NotEqual(0, result.Code);
        Assert.Contains("error: rank 1: ", result.Err);
        Assert.Contains(train, result.Err);
        Assert.DoesNotContain("error: rank 0: ", result.Err); // rank 0's rows are sound: it was stopped, not failed
        Assert.False(File.Exists(PathOf("never.model")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:F1} s to end");
    }

    [Fact]
    public void RanksGivenDifferentOptionsStopAtTheStart()
    {
        string[] launcher = Launcher();
        (string train, _) = Digits();
        string[] common = ["train", "--data", train, "--model", PathOf("never.model"), "--device", "host", "--quiet"];
        // MPMD: rank 0 and rank 1 started with different command lines (C = 1 and C = 2).
        var result = Launch([.. launcher, "-n", "1", .. CliCommand, .. common, "--C", "1", ":", "-n", "1", .. CliCommand, .. common, "--C", "2"]);
        Assert.NotEqual(0, result.Code);
        Assert.Contains("ranks disagree on the command line or the data files", result.Err);
        Assert.False(File.Exists(PathOf("never.model")));
    }

    /// <summary>The digits set's first 1400 rows as a .sgd file of 100-row blocks, the rest as a CSV.</summary>
    private (string Train, string Test) Digits()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
        string csv = Write("train.csv", string.Join("\n", lines.Take(1 + TrainRows)) + "\n");
        string test = Write("test.csv", string.Join("\n", [lines[0], .. lines.Skip(1 + TrainRows)]) + "\n");
        var convert = Run("convert", "--data", csv, "--out", PathOf("train.sgd"), "--block-rows", "100");
        Assert.True(convert.Code == 0, convert.Err);
        return (PathOf("train.sgd"), test);
    }

    private string[] Predict(string model, string data)
    {
        string output = PathOf(Path.GetFileNameWithoutExtension(model) + "-predictions.csv");
        var predict = Run("predict", "--model", model, "--data", data, "--out", output, "--device", "host");
        Assert.True(predict.Code == 0, predict.Err);
        return File.ReadAllLines(output).Skip(1).ToArray();
    }

    /// <summary>
    /// Sparse rows (--sparse on) shard too: each rank sums its rows, the ranks add their sums, one θ; multi-label rows
    /// (LIBSVM tag lists, the sigmoid head) shard their target rows with them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SparseRowsOnTwoRanksReachTheOneProcessOptimum(bool multiLabel)
    {
        string[] launcher = Launcher();
        string train = SparseLibSvm(multiLabel);
        string[] head = multiLabel ? ["--multi-label"] : [];
        var one = Run(["train", "--data", train, "--sparse", "on", "--model", PathOf("one.model"), "--device", "host", "--quiet",
            "--log-json", PathOf("one.jsonl"), .. head]);
        Assert.True(one.Code == 0, one.Err);
        var two = Launch(launcher, 2, ["train", "--data", train, "--sparse", "on", "--model", PathOf("two.model"), "--device", "host",
            "--quiet", "--log-json", PathOf("two.jsonl"), .. head]);
        Assert.True(two.Code == 0, $"mpirun exited {two.Code}\n{two.Err}");
        Assert.Contains("kept sparse", two.Out);
        double single = FinalObjective(PathOf("one.jsonl")), parallel = FinalObjective(PathOf("two.jsonl"));
        Assert.True(Math.Abs(parallel - single) <= 1e-6 * Math.Abs(single),
            $"2 ranks reached J = {parallel:R}, 1 process J = {single:R}");
    }

    /// <summary>
    /// 301 LIBSVM rows of 40 features (about 12 % non-zero) in 3 classes, each class raising its own feature; with
    /// <paramref name="multiLabel"/> a third of the rows carry a second tag.
    /// </summary>
    private string SparseLibSvm(bool multiLabel)
    {
        var random = new Random(3);
        var lines = Enumerable.Range(0, 301).Select(r =>
        {
            int label = random.Next(3);
            var entries = Enumerable.Range(1, 40).Where(j => random.NextDouble() < 0.1 || j == 1 + label * 13)
                .Select(j => FormattableString.Invariant($"{j}:{random.NextDouble() + (j == 1 + label * 13 ? 1 : 0):R}"));
            string tags = random.NextDouble() < 0.3 ? $"{label},{(label + 1) % 3}" : $"{label}";
            return $"{(multiLabel ? tags : $"c{label}")} {string.Join(" ", entries)}";
        });
        return Write("sparse.libsvm", string.Join("\n", lines) + "\n");
    }

    /// <summary>
    /// Choosing C under mpirun (dense rows by folds and on a held-out split; sparse rows by folds): every rank holds
    /// every row, so it deals the folds one process deals; each fold's fits sum the ranks' shards (gradients, J, the
    /// held-out loss and counts) with λ = 1/(C·N) over the whole fold. Against one process: the same C is chosen, every
    /// fold's J at every C is within 1e-6 (relative) and its held-out log-loss within 2e-3, and the refit's J within
    /// 1e-6. Why these: the fits stop when J falls by less than 2.2e-9·max(1, |J|), and one process takes other sums
    /// (its dense folds share passes in float64, its sparse pass folds the penalty into each row), so the two runs stop
    /// at nearby points, not the same bits. Seen on iris and the sparse rows: J within 1.2e-7, held-out log-loss within
    /// 2.2e-4 (a held-out loss moves more than J near the optimum), refit J within 1.5e-7. A wrong fold, λ from a
    /// shard's rows, or a held-out score from one shard moves them by percents.
    /// </summary>
    [Theory]
    [InlineData("csv", "--cv", "3")]
    [InlineData("csv", "--val-fraction", "0.3")]
    [InlineData("sparse", "--cv", "3")]
    [InlineData("sgd", "--cv", "3")] // each fold's rows read in blocks from each rank's shard of the file
    public void ChoosingCOnTwoRanksChoosesAsOneProcess(string kind, string holdOut, string value)
    {
        string[] launcher = Launcher();
        if (kind == "sgd")
            Assert.Equal(0, Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd"), "--block-rows", "16").Code);
        string[] data = kind switch
        {
            "sparse" => ["--data", SparseLibSvm(multiLabel: false), "--sparse", "on"],
            "sgd" => ["--data", PathOf("iris.sgd")],
            _ => ["--data", Check.IrisPath],
        };
        string[] path = [.. data, "--C", "0.01,0.1,1", holdOut, value, "--select", "log-loss", "--device", "host", "--quiet"];
        var one = Run(["train", .. path, "--model", PathOf("one.model"), "--log-json", PathOf("one.jsonl")]);
        Assert.True(one.Code == 0, one.Err);
        var two = Launch(launcher, 2, ["train", .. path, "--model", PathOf("two.model"), "--log-json", PathOf("two.jsonl")]);
        Assert.True(two.Code == 0, $"mpirun exited {two.Code}\n{two.Err}");
        Assert.Single(two.Out.Split('\n'), line => line.StartsWith("chosen:", StringComparison.Ordinal)); // rank 0 alone reports

        FoldRow[] single = FoldRows(PathOf("one.jsonl")), parallel = FoldRows(PathOf("two.jsonl"));
        Assert.Equal(single.Select(r => (r.C, r.Fold, r.Chosen)), parallel.Select(r => (r.C, r.Fold, r.Chosen)));
        Check.Close([.. single.Select(r => r.Objective)], [.. parallel.Select(r => r.Objective)], 0, 1e-6, "each fold's J at each C");
        Check.Close([.. single.Select(r => r.Score)], [.. parallel.Select(r => r.Score)], 0, 2e-3, "each fold's held-out log-loss");
        Check.Close(RefitObjective(PathOf("one.jsonl")), RefitObjective(PathOf("two.jsonl")), 0, 1e-6, "the refit's J at the chosen C");
    }

    /// <summary>One (C, fold) row of a path's --log-json: its held-out log-loss, J, and whether its C was chosen.</summary>
    private sealed record FoldRow(double C, int Fold, double Score, double Objective, bool Chosen);

    private static FoldRow[] FoldRows(string logJson) =>
        [.. File.ReadLines(logJson).Select(line => JsonSerializer.Deserialize<JsonElement>(line))
            .Where(row => row.TryGetProperty("fold", out _))
            .Select(row => new FoldRow(row.GetProperty("C").GetDouble(), row.GetProperty("fold").GetInt32(),
                row.GetProperty("val_log_loss").GetDouble(), row.GetProperty("objective").GetDouble(), row.GetProperty("chosen").GetBoolean()))];

    /// <summary>J of the refit's last iteration: the last row of the log that is an iteration (the path's rows follow them).</summary>
    private static double RefitObjective(string logJson)
    {
        string last = File.ReadLines(logJson).Last(line => line.Contains("\"epoch\":", StringComparison.Ordinal));
        using JsonDocument row = JsonDocument.Parse(last);
        return row.RootElement.GetProperty("objective").GetDouble();
    }

    private static double FinalObjective(string logJson)
    {
        using JsonDocument last = JsonDocument.Parse(File.ReadLines(logJson).Last());
        return last.RootElement.GetProperty("objective").GetDouble();
    }

    /// <summary>
    /// The launcher and its options: MPICH's mpiexec where installed (CI's), else mpirun on PATH (Open MPI's needs,
    /// as root, --allow-run-as-root, and --oversubscribe for more ranks than cores). No launcher skips the test.
    /// </summary>
    private static string[] Launcher()
    {
        string? mpich = Which("mpiexec.mpich") ?? Which("mpirun.mpich");
        if (mpich is not null)
            return [mpich];
        string? mpirun = Which("mpirun") ?? Which("mpiexec");
        if (mpirun is null)
        {
            string why = "no mpirun or mpiexec on PATH: install MPICH (bash .ci/install-mpi) to run the data-parallel tests";
            Assert.False(Required, $"SOFTMAXGPU_REQUIRE_MPI=1 but {why}");
            SkipOnce.Because(why);
        }
        bool openMpi = Exec([mpirun, "--version"], TimeSpan.FromSeconds(20)).Out.Contains("Open MPI", StringComparison.Ordinal);
        return openMpi ? [mpirun, "--allow-run-as-root", "--oversubscribe", "-x", "TERM=dumb"] : [mpirun];
    }

    private static (int Code, string Out, string Err) Launch(string[] launcher, int ranks, params string[] args) =>
        Launch([.. launcher, "-n", ranks.ToString(CultureInfo.InvariantCulture), .. CliCommand, .. args]);

    private static (int Code, string Out, string Err) Launch(string[] command) => Exec(command, Hang);

    /// <summary>Runs a command to its end; one that outlives <paramref name="limit"/> is killed and fails the test as a hang.</summary>
    private static (int Code, string Out, string Err) Exec(string[] command, TimeSpan limit)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in command[1..])
            start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{string.Join(" ", command)} did not end within {limit.TotalSeconds} s (a hang)\n{error.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
}
