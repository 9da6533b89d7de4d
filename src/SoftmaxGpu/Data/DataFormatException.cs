namespace SoftmaxGpu.Data;

/// <summary>Bad input data or model file: the message names the file, and the line and column where known.</summary>
public sealed class DataFormatException(string message) : Exception(message)
{
    public static DataFormatException At(string file, long line, string column, string problem) =>
        new($"{file}: line {line}, column {column}: {problem}");
}
