using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>The one node most tests run: a simulated host with its own API server double, for the test's length.</summary>
internal static class DraFixture
{
    public const string Node = "node-1";

    /// <summary>The node (the kernel's sample drivers unless told otherwise) and, unless <paramref name="start"/> is false, its plugin, once it published the pool.</summary>
    public static Task<SimulatedNode> StartAsync(bool start = true, string profile = "samples") =>
        SimulatedNode.StartAloneAsync(Node, profile, start, TestContext.Current.CancellationToken);
}
