using System.Text;
using Mdevkit.Cli;

// Installed as mdevkit, and linked as mdevctl and lsmdev: the name it is run by picks the personality.
// The kernel's argv[0] tells that name even when a launcher (the .NET apphost) stands in between.
var cmdline = File.Exists("/proc/self/cmdline") ? File.ReadAllBytes("/proc/self/cmdline") : null;
var argv0 = cmdline is not null ? Encoding.UTF8.GetString(cmdline).Split('\0')[0] : Environment.GetCommandLineArgs()[0];
var invokedAs = Path.GetFileNameWithoutExtension(argv0);
// Listings write thousands of lines: buffer them and write once, instead of a syscall per line.
using var output = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
// The kernel's bytes, so that an argument which is not UTF-8 is refused rather than read as U+FFFD.
return cmdline is not null && CommandLineText.Arguments(cmdline, args.Length) is { } raw
    ? MdevkitCommand.Run(raw, output, Console.Error, invokedAs)
    : MdevkitCommand.Run(args, output, Console.Error, invokedAs);
