using System.Globalization;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Iris with targets beside its features, written as CSV files for the streaming and .sgd target tests (seeded):
/// probability columns, a weight column, 0/1 tag columns and the same tags as one '|'-separated column.
/// </summary>
internal static class TargetData
{
    public static readonly string[] Classes = ["setosa", "versicolor", "virginica"];
    public const string Probabilities = "p0,p1,p2";
    public const string TagColumns = "t0,t1,t2,t3";

    /// <summary>Iris's feature columns and each row's class index.</summary>
    private static (string Header, (string Features, int Label)[] Rows) Iris()
    {
        string[] lines = File.ReadAllLines(Check.IrisPath).Where(l => l.Length > 0).ToArray();
        return (lines[0][..lines[0].LastIndexOf(',')],
            lines.Skip(1).Select(l => (l[..l.LastIndexOf(',')], Array.IndexOf(Classes, l[(l.LastIndexOf(',') + 1)..]))).ToArray());
    }

    /// <summary>
    /// soft.csv: the features, p0,p1,p2 (mostly the true class, the rest at random, summing to 1) and an integer
    /// weight w in 0..3; weighted.csv: the features, w and the species.
    /// </summary>
    public static (string Soft, string Weighted) Write(string folder)
    {
        (string header, (string Features, int Label)[] rows) = Iris();
        var random = new Random(4);
        var weighted = new List<string> { header + ",w,species" };
        var soft = new List<string> { header + ",p0,p1,p2,w" };
        foreach ((string features, int label) in rows)
        {
            int w = random.Next(4);
            weighted.Add($"{features},{w},{Classes[label]}");
            double[] p = [.. Enumerable.Range(0, 3).Select(c => (c == label ? 3.0 : 0) + random.NextDouble())];
            soft.Add($"{features},{string.Join(',', p.Select(v => (v / p.Sum()).ToString("R", CultureInfo.InvariantCulture)))},{w}");
        }
        (string softPath, string weightedPath) = (Path.Combine(folder, "soft.csv"), Path.Combine(folder, "weighted.csv"));
        File.WriteAllLines(softPath, soft);
        File.WriteAllLines(weightedPath, weighted);
        return (softPath, weightedPath);
    }

    /// <summary>
    /// tags.csv: the features, four 0/1 tag columns t0..t3 (on where a noisy linear score of a feature is positive:
    /// learnable, not separable; some rows have none) and a column 'tags' of the same sets joined by '|'. Train with
    /// --ignore tags (tag columns) or --ignore t0,t1,t2,t3 (tags column).
    /// </summary>
    public static string Tagged(string folder)
    {
        (string header, (string Features, int Label)[] rows) = Iris();
        var random = new Random(3);
        var lines = new List<string> { header + "," + TagColumns + ",tags" };
        foreach ((string features, _) in rows)
        {
            float[] x = features.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            int[] on = [.. Enumerable.Range(0, 4).Select(t => (x[t] - x.Average()) * (t < 2 ? 1 : -1) + random.NextDouble() - 0.5 > 0 ? 1 : 0)];
            lines.Add($"{features},{string.Join(',', on)},{string.Join('|', Enumerable.Range(0, 4).Where(t => on[t] == 1).Select(t => $"t{t}"))}");
        }
        string path = Path.Combine(folder, "tags.csv");
        File.WriteAllLines(path, lines);
        return path;
    }
}
