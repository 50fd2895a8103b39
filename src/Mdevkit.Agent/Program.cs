using System.CommandLine;
using Mdevkit.Agent;

var root = new Option<string>("--root") { Description = "The root to manage: / (the default), or a simulated host's root", DefaultValueFactory = _ => "/" };
var socket = new Option<string?>("--socket") { Description = $"The API's Unix socket (default ROOT/{Mdevkit.Management.MdevkitPaths.AgentSocket})" };
var config = new Option<string?>("--config") { Description = $"The configuration file (default ROOT/{Mdevkit.Management.MdevkitPaths.AgentConfiguration}, if it exists)" };
var listen = new Option<string[]>("--listen") { Description = "Also serve TCP on ADDRESS:PORT (repeatable); needs tokens in the configuration", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
var dryRun = new Option<bool>("--dry-run") { Description = $"Print what reconciling ROOT/{Mdevkit.Management.MdevkitPaths.Declaration} would do, and exit without doing it" };
var command = new RootCommand("mdevkitd: keeps a host's mediated devices and serves them over an API") { root, socket, config, listen, dryRun };
command.SetAction(async (parse, cancellation) =>
{
    var rootDirectory = parse.GetValue(root)!;
    if (!Directory.Exists(rootDirectory))
    {
        await Console.Error.WriteAsync($"Error: --root {rootDirectory} does not exist\n");
        return 1;
    }
    if (parse.GetValue(dryRun))
    {
        return await DryRun.PrintAsync(rootDirectory, Console.Out, Console.Error);
    }
    try
    {
        await using var app = AgentApp.Build(new AgentOptions(rootDirectory, parse.GetValue(socket) ?? Mdevkit.Management.MdevkitPaths.AgentSocketBelow(rootDirectory))
        {
            Configuration = parse.GetValue(config),
            Listen = parse.GetValue(listen) ?? [],
        });
        await app.RunAsync();
        return 0;
    }
    catch (AgentException e)
    {
        await Console.Error.WriteAsync($"Error: {e.Message}\n");
        return 1;
    }
});
var parsed = command.Parse(args);
if (parsed.Errors.Count > 0)
{
    await Console.Error.WriteAsync($"Error: {parsed.Errors[0].Message}\n");
    return 2;
}
// The host shuts down gracefully on SIGTERM and SIGINT itself; the parser must not cut that short.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
