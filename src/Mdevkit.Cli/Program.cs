using Mdevkit.Cli;

return MdevkitCommand.Run(args, Console.Out, Console.Error);
