namespace Mdevkit.Kubernetes;

internal static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("mdevkit-dra: not yet able to run");
        return args.Length == 0 ? 1 : 2;
    }
}
