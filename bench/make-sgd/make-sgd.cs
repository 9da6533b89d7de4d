// A synthetic .sgd dataset written straight into the binary format (no CSV): N rows of D features ~ U(-1, 1) and
// labels from a random linear teacher over K classes, seeded. For the large-data benchmarks (more than 2^31
// feature values fit in a file this way without any CSV of that size).
//   dotnet run bench/make-sgd/make-sgd.cs -- OUT.sgd N D K [SEED]
#:project ../../src/SoftmaxGpu/SoftmaxGpu.csproj
#:property PublishAot=false
using System.Globalization;
using SoftmaxGpu.Data;

if (args.Length < 4)
{
    Console.Error.WriteLine("usage: make-sgd OUT.sgd N D K [SEED]");
    return 2;
}
string output = args[0];
long n = long.Parse(args[1], CultureInfo.InvariantCulture);
int d = int.Parse(args[2], CultureInfo.InvariantCulture);
int k = int.Parse(args[3], CultureInfo.InvariantCulture);
var random = new Random(args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1);
var teacher = new float[k * d];
for (int i = 0; i < teacher.Length; i++)
    teacher[i] = (float)(random.NextDouble() * 2 - 1);
string[] names = Enumerable.Range(0, d).Select(j => $"x{j}").ToArray();
string[] labels = Enumerable.Range(0, k).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
var row = new float[d];
var clock = System.Diagnostics.Stopwatch.StartNew();
AtomicFile.Write(output, stream =>
{
    var writer = new SgdWriter(stream, names, "class");
    for (long r = 0; r < n; r++)
    {
        for (int j = 0; j < d; j++)
            row[j] = (float)(random.NextDouble() * 2 - 1);
        int best = 0;
        float bestScore = float.NegativeInfinity;
        for (int c = 0; c < k; c++)
        {
            float score = 0;
            for (int j = 0; j < d; j++)
                score += teacher[c * d + j] * row[j];
            if (score > bestScore)
                (best, bestScore) = (c, score);
        }
        writer.Append(row, labels[best]);
    }
    writer.Finish();
});
Console.WriteLine($"{output}: {n} rows x {d} features, {k} classes, {new FileInfo(output).Length} bytes, {clock.Elapsed.TotalSeconds:F1} s");
return 0;
