using Mdevkit.Cli;

// Installed as mdevkit, and linked as mdevctl and lsmdev: the name it is run by picks the personality.
var invokedAs = Path.GetFileNameWithoutExtension(Environment.GetCommandLineArgs()[0]);
// Listings write thousands of lines: buffer them and write once, instead of a syscall per line.
using var output = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
return MdevkitCommand.Run(args, output, Console.Error, invokedAs);
