using System.Text;
using Mdevkit.Cli;

// Installed as mdevkit, and linked as mdevctl and lsmdev: the name it is run by picks the personality.
// The kernel's argv[0] tells that name even when a launcher (the .NET apphost) stands in between.
var argv0 = File.Exists("/proc/self/cmdline")
    ? Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/cmdline")).Split('\0')[0]
    : Environment.GetCommandLineArgs()[0];
var invokedAs = Path.GetFileNameWithoutExtension(argv0);
// Listings write thousands of lines: buffer them and write once, instead of a syscall per line.
using var output = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
return MdevkitCommand.Run(args, output, Console.Error, invokedAs);
