using Mdevkit.Cli;

// Installed as mdevkit, and linked as mdevctl and lsmdev: the name it is run by picks the personality.
var invokedAs = Path.GetFileNameWithoutExtension(Environment.GetCommandLineArgs()[0]);
return MdevkitCommand.Run(args, Console.Out, Console.Error, invokedAs);
