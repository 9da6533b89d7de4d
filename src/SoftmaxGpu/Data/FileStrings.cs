using System.Text;

namespace SoftmaxGpu.Data;

/// <summary>
/// Strings in the project's binary files (model files, .sgd footers): an int32 byte length, then UTF-8. A length
/// beyond <see cref="MaxBytes"/> (far above any real name) is read as corruption, not allocated.
/// </summary>
public static class FileStrings
{
    /// <summary>The longest string a reader accepts, in UTF-8 bytes.</summary>
    public const int MaxBytes = 1 << 20;

    public static void Write(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    /// <summary>A string as <see cref="Write"/> wrote it, from the file <paramref name="path"/> (for the message).</summary>
    public static string Read(BinaryReader r, string path)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > MaxBytes)
            throw new DataFormatException($"{path}: corrupted string length {length}");
        byte[] bytes = r.ReadBytes(length);
        if (bytes.Length != length)
            throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }
}
