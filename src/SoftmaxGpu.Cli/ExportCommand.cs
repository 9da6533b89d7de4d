using System.CommandLine;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Cli;

/// <summary>
/// <c>softmaxgpu export</c>: a trained model as an ONNX file (<see cref="OnnxExport"/>), which ONNX Runtime runs on
/// raw feature rows and which gives the labels and probabilities <c>predict</c> gives.
/// </summary>
public static class ExportCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "Model file written by train.", Required = true };
        var onnx = new Option<string>("--onnx")
        {
            Description = $"The ONNX file to write (opset {OnnxExport.Opset}): input '{OnnxExport.FeaturesInput}' [N, D] float, " +
                          $"outputs '{OnnxExport.LabelOutput}' [N] string and '{OnnxExport.ProbabilitiesOutput}' [N, K] float.",
            Required = true,
        };

        var command = new Command("export", "Export a trained model as an ONNX file (standardization, logits, softmax, label).")
        {
            model, onnx,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            OutputPaths.Check([("--onnx", parse.GetValue(onnx))], [("--model", parse.GetValue(model))]);
            SoftmaxModel trained = ModelFile.Load(parse.GetValue(model)!);
            string path = parse.GetValue(onnx)!;
            OnnxExport.Write(trained, path);
            output.WriteLine($"onnx: {path} (opset {OnnxExport.Opset}, {trained.D} features, {trained.K} {(trained.Kind.IsMultiLabel() ? "tags, sigmoid head" : "classes")})");
            return 0;
        }));
        return command;
    }
}
