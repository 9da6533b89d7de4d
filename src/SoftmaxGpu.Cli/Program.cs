namespace SoftmaxGpu.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        using Interrupts interrupts = Interrupts.Handle(Console.Error);
        return App.Run(args, Console.Out, Console.Error);
    }
}
