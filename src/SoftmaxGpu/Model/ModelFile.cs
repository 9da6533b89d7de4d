using System.Security.Cryptography;
using System.Text;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Model;

/// <summary>
/// The model file, little-endian throughout (README.md, "Model file", says the same):
/// <code>
///   magic        8 bytes   ASCII "SMXGPUMD"
///   version      int32     2 (version 1, still read, lacks the kind and is multiclass)
///   K, D         int32, int32
///   kind         string    (int32 byte count, then UTF-8 bytes; so are all strings below): "multiclass",
///                          "multi-label-tags" or "multi-label-columns" (<see cref="ModelKind"/>); version 2 only
///   label name   string
///   classes      K strings
///   features     D strings
///   mean         D float64
///   std          D float64
///   W            K·D float32, row-major [K, D]
///   b            K float32
///   selection    version 3 and 4 only (a model whose penalty was chosen among several; others are written as version 2):
///                version 4 only: string parameter ("weight-decay"; a path over C is written as version 3, which has none),
///                string score ("accuracy" or "log-loss"), int32 folds (0: a validation set), float64 chosen value,
///                int32 count, then per value: float64 value, int32 n, n float64 scores (one per fold)
///   checksum     32 bytes  SHA-256 of every byte before it
/// </code>
/// Written to a temporary file beside the target and renamed over it, so a crash never leaves half a model.
/// </summary>
public static class ModelFile
{
    /// <summary>
    /// The newest version: 4, a model with its <see cref="ModelSelection"/> over weight decays; one over C is written as
    /// 3 (which builds before weight-decay paths read), a model without one as 2.
    /// </summary>
    public const int Version = 4;

    /// <summary>The earliest version this build reads: 1, from before multi-label models, is multiclass.</summary>
    public const int OldestVersion = 1;
    private static readonly byte[] Magic = "SMXGPUMD"u8.ToArray();
    private const int ChecksumBytes = 32;

    public static void Save(SoftmaxModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(model.Selection is null ? 2 : model.Selection.Parameter == "C" ? 3 : 4);
            w.Write(model.K);
            w.Write(model.D);
            FileStrings.Write(w, model.Kind.FileName());
            FileStrings.Write(w, model.LabelName);
            foreach (string c in model.Classes)
                FileStrings.Write(w, c);
            foreach (string f in model.FeatureNames)
                FileStrings.Write(w, f);
            foreach (double m in model.Standardizer.Mean)
                w.Write(m);
            foreach (double s in model.Standardizer.Std)
                w.Write(s);
            foreach (float x in model.Weights)
                w.Write(x);
            foreach (float x in model.Bias)
                w.Write(x);
            if (model.Selection is { } selection)
            {
                if (selection.Parameter != "C")
                    FileStrings.Write(w, selection.Parameter);
                WriteSelection(w, selection);
            }
        }
        byte[] bytes = body.ToArray();
        byte[] checksum = SHA256.HashData(bytes);

        AtomicFile.Write(path, file =>
        {
            file.Write(bytes);
            file.Write(checksum);
        });
    }

    public static SoftmaxModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new DataFormatException($"{path}: a folder, not a model file");
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: model file not found");
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new DataFormatException($"{path}: not a SoftmaxGpu model file (bad magic)");
        if (all.Length < Magic.Length + 4 + ChecksumBytes)
            throw new DataFormatException($"{path}: model file is truncated");
        int version = BitConverter.ToInt32(all, Magic.Length);
        if (version < OldestVersion || version > Version)
            throw new DataFormatException(
                $"{path}: model format version {version}; this build reads versions {OldestVersion} to {Version}" +
                (version > Version ? " (the model comes from a newer SoftmaxGpu: update this one)" : ""));

        byte[] expected = SHA256.HashData(all.AsSpan(0, all.Length - ChecksumBytes));
        if (!expected.AsSpan().SequenceEqual(all.AsSpan(all.Length - ChecksumBytes)))
            throw new DataFormatException($"{path}: model file is truncated or corrupted (checksum mismatch)");

        try
        {
            using var r = new BinaryReader(new MemoryStream(all, 0, all.Length - ChecksumBytes), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            r.ReadInt32();
            int k = r.ReadInt32();
            int d = r.ReadInt32();
            if (k < 1 || d < 1)
                throw new DataFormatException($"{path}: invalid shapes K={k}, D={d} (need K ≥ 1, D ≥ 1)");
            long expectedBytes = (long)d * 16 + ((long)k * d + k) * 4;
            if (expectedBytes > all.Length)
                throw new DataFormatException($"{path}: shapes K={k}, D={d} do not fit in a {all.Length}-byte file");
            string kindName = version >= 2 ? FileStrings.Read(r, path) : ModelKind.Multiclass.FileName();
            ModelKind kind = ModelKinds.FromFileName(kindName)
                ?? throw new DataFormatException($"{path}: unknown model kind '{kindName}'");
            if (k < 2 && !kind.IsMultiLabel())
                throw new DataFormatException($"{path}: invalid shapes K={k}, D={d} (a multiclass model needs K ≥ 2)");
            string label = FileStrings.Read(r, path);
            string[] classes = Enumerable.Range(0, k).Select(_ => FileStrings.Read(r, path)).ToArray();
            string[] features = Enumerable.Range(0, d).Select(_ => FileStrings.Read(r, path)).ToArray();
            double[] mean = Enumerable.Range(0, d).Select(_ => r.ReadDouble()).ToArray();
            double[] std = Enumerable.Range(0, d).Select(_ => r.ReadDouble()).ToArray();
            float[] weights = Enumerable.Range(0, k * d).Select(_ => r.ReadSingle()).ToArray();
            float[] bias = Enumerable.Range(0, k).Select(_ => r.ReadSingle()).ToArray();
            string parameter = version >= 4 ? FileStrings.Read(r, path) : "C";
            if (parameter is not ("C" or "weight-decay"))
                throw new DataFormatException($"{path}: unknown selection parameter '{parameter}'");
            ModelSelection? selection = version >= 3 ? ReadSelection(r, path) with { Parameter = parameter } : null;
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new DataFormatException($"{path}: {r.BaseStream.Length - r.BaseStream.Position} unexpected bytes after the model");
            return new SoftmaxModel(label, classes, features, new Standardizer(mean, std), weights, bias, kind) { Selection = selection };
        }
        catch (EndOfStreamException)
        {
            throw new DataFormatException($"{path}: model file ends before the shapes in its header say it should");
        }
    }

    private static void WriteSelection(BinaryWriter w, ModelSelection selection)
    {
        FileStrings.Write(w, selection.Score);
        w.Write(selection.Folds);
        w.Write(selection.Chosen);
        w.Write(selection.Path.Count);
        foreach (SelectionRow row in selection.Path)
        {
            w.Write(row.Value);
            w.Write(row.Scores.Length);
            foreach (double score in row.Scores)
                w.Write(score);
        }
    }

    private static ModelSelection ReadSelection(BinaryReader r, string path)
    {
        string score = FileStrings.Read(r, path);
        int folds = r.ReadInt32();
        double chosen = r.ReadDouble();
        int count = r.ReadInt32();
        long left = r.BaseStream.Length - r.BaseStream.Position;
        if (folds < 0 || count < 1 || count > left / 12)
            throw new DataFormatException($"{path}: invalid C selection record ({count} values of C, {folds} folds)");
        var rows = new SelectionRow[count];
        for (int i = 0; i < count; i++)
        {
            double c = r.ReadDouble();
            int n = r.ReadInt32();
            if (n < 1 || n > (r.BaseStream.Length - r.BaseStream.Position) / 8)
                throw new DataFormatException($"{path}: invalid C selection record (C = {c}: {n} scores)");
            rows[i] = new SelectionRow(c, Enumerable.Range(0, n).Select(_ => r.ReadDouble()).ToArray());
        }
        return new ModelSelection(score, folds, chosen, rows);
    }
}
