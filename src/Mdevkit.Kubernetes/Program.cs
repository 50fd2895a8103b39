using System.CommandLine;
using Mdevkit.Kubernetes;

var root = new Option<string>("--root") { Description = "The host root whose devices it manages: / (the default), or a simulated host's root", DefaultValueFactory = _ => "/" };
var nodeName = new Option<string?>("--node-name") { Description = "The node it serves: its pool and its slices' node (default $NODE_NAME)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NODE_NAME") };
var kubeletDirectory = new Option<string>("--kubelet-dir") { Description = "The kubelet's directory", DefaultValueFactory = _ => "/var/lib/kubelet" };
var cdiDirectory = new Option<string>("--cdi-dir") { Description = "Where CDI specs go for the container runtime", DefaultValueFactory = _ => "/var/run/cdi" };
var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Reach the API server as this kubeconfig file says (default: in-cluster, the pod's service account)" };
var server = new Option<string?>("--server") { Description = "Reach the API server at this URL without credentials (plain HTTP, for an API server double)" };
var command = new RootCommand($"mdevkit-dra: the DRA kubelet plugin of {DraNames.Driver}, making mdevs for allocated ResourceClaims")
{
    root, nodeName, kubeletDirectory, cdiDirectory, kubeconfig, server,
};
command.SetAction(async (parse, cancellation) =>
{
    var rootDirectory = parse.GetValue(root)!;
    string? problem = null;
    if (!Directory.Exists(rootDirectory))
    {
        problem = $"--root {rootDirectory} does not exist";
    }
    else if (parse.GetValue(nodeName) is not { Length: > 0 })
    {
        problem = "no node name: give --node-name or set NODE_NAME";
    }
    else if (parse.GetValue(kubeconfig) is not null && parse.GetValue(server) is not null)
    {
        problem = "--kubeconfig and --server exclude each other";
    }
    else if (parse.GetValue(server) is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
    {
        problem = $"--server {url} is not an http:// or https:// URL";
    }
    if (problem is not null)
    {
        await Console.Error.WriteAsync($"Error: {problem}\n");
        return 2;
    }
    try
    {
        var options = new PluginOptions(rootDirectory, parse.GetValue(nodeName)!, Path.GetFullPath(parse.GetValue(kubeletDirectory)!), Path.GetFullPath(parse.GetValue(cdiDirectory)!),
            new ApiServerAccess(parse.GetValue(kubeconfig), parse.GetValue(server)));
        await using var app = PluginHost.Build(options);
        await app.RunAsync();
        return 0;
    }
    catch (PluginException e)
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
