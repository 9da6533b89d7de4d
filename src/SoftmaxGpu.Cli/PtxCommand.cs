using System.CommandLine;
using SoftmaxGpu.Bench;

namespace SoftmaxGpu.Cli;

/// <summary><c>softmaxgpu ptx</c>: the PTX of the hot kernels, made without a GPU, with what it shows.</summary>
public static class PtxCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var folder = new Option<string?>("--out") { Description = "Also write each kernel's PTX to this folder." };
        var command = new Command("ptx",
            "Compile the hot kernels to PTX for sm_90 (no GPU needed) and count global vector/scalar loads, shared " +
            "accesses, barriers and local-memory accesses (spills show up only after ptxas, on the GPU).")
        {
            folder,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            string? dir = parse.GetValue(folder);
            if (dir is not null && File.Exists(dir))
                throw new ArgumentException($"--out {dir} is a file; --out names a folder for the kernels' PTX files");
            if (dir is not null)
                Directory.CreateDirectory(dir);
            output.WriteLine($"{"kernel",-15} {"instr",6} {"ld.v4",6} {"ld",5} {"st",5} {"ld.sh",6} {"st.sh",6} {"bar",4} {"local",6} {"%f regs",8}");
            foreach ((string name, string ptx) in PtxReport.Compile())
            {
                PtxCounts c = PtxCounts.Of(name, ptx);
                output.WriteLine($"{c.Kernel,-15} {c.Instructions,6} {c.GlobalVectorLoads,6} {c.GlobalScalarLoads,5} {c.GlobalStores,5} " +
                                 $"{c.SharedLoads,6} {c.SharedStores,6} {c.Barriers,4} {c.LocalAccesses,6} {c.FloatRegisters,8}");
                if (dir is not null)
                    File.WriteAllText(Path.Combine(dir, name.Replace(' ', '-') + ".ptx"), ptx);
            }
            return 0;
        }));
        return command;
    }
}
