// One sparse gradient pass of the host engine (SparseObjective.Evaluate: J and ∇J over CSR rows), timed alone: reads a
// LIBSVM file, builds the objective (λ = 1/N, θ seeded ~ U(-0.1, 0.1)), runs 2 passes to warm up and then REPS timed
// ones. Prints the CPU seconds per pass (less sensitive than the wall to other processes on a shared machine), the
// median, min and max wall seconds, and J and ‖∇J‖² (to check two builds compute the same pass).
//   dotnet run bench/sparse-pass/sparse-pass.cs -c Release -- datasets/debian-text/train.libsvm [REPS] [centred]
// To compare two builds, publish this app against each (or copy its output folder) and run them alternating.
#:project ../../src/SoftmaxGpu/SoftmaxGpu.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using SoftmaxGpu.Data;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Training;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: sparse-pass FILE.libsvm [REPS] [centred]");
    return 2;
}
int reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
bool centred = args.Length > 2 && args[2] == "centred";
SparseTable table = SparseTable.Read(args[0], new LibSvmOptions());
string[] classes = table.DistinctClasses();
int[] labels = table.Encode(classes);
int k = classes.Length, d = table.Dim;
var set = new SparseSet(table.X, labels);
_ = set.Columns; // the CSC copy, made outside the timing
double[]? centre = null;
if (centred)
{
    var means = new Random(3);
    centre = new double[d];
    for (int j = 0; j < d; j++)
        centre[j] = means.NextDouble() < 0.5 ? 0 : means.NextDouble() * 0.01;
}
using var objective = new SparseObjective<SoftmaxHead>(set, k, centre, 1.0 / set.Rows);
var theta = new double[objective.Parameters];
var random = new Random(1);
for (int i = 0; i < theta.Length; i++)
    theta[i] = (random.NextDouble() - 0.5) * 0.2;
var gradient = new double[theta.Length];
objective.Evaluate(theta, gradient);
objective.Evaluate(theta, gradient);
var times = new List<double>();
double j0 = 0;
TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
for (int r = 0; r < reps; r++)
{
    var clock = Stopwatch.StartNew();
    (j0, _, _) = objective.Evaluate(theta, gradient);
    times.Add(clock.Elapsed.TotalSeconds);
}
double cpuPerPass = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / reps;
times.Sort();
double squares = gradient.Sum(g => g * g);
Console.WriteLine(FormattableString.Invariant(
    $"{set.Rows}x{d} K={k} nnz={set.X.NonZeros}: cpu/pass {cpuPerPass:F4} s; wall median {times[reps / 2]:F4} min {times[0]:F4} max {times[^1]:F4} s; J {j0:R} |grad|^2 {squares:R}"));
return 0;
