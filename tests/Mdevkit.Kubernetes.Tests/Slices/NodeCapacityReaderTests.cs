using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management;
using Mdevkit.Management.Planning;
using Mdevkit.TestSupport;

namespace Mdevkit.Kubernetes.Tests.Slices;

public sealed class NodeCapacityReaderTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(NodeCapacityReaderTests));

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Read_ProbedAndUnprobedGpus_StoredModelOrOfferWithRunningDevicesGivenBack()
    {
        // The nvidia profile's two M60 GPUs, one device on the second; only the first was probed.
        var host = SimulatedTree.Boot("nvidia");
        var second = host.Core.Parents.Single(parent => parent.Name == "0000:3f:00.0");
        var type = second.Types.First(type => type.Directory is not null);
        Assert.Equal(Mdevkit.Sysfs.Errno.None, host.Core.Create(type, Guid.NewGuid()));
        host.WriteTo(_root);
        var managed = new ManagedHost(new MdevctlEnvironment(_root.Path), TextWriter.Null);
        var first = host.Core.Parents.Single(parent => parent.Name == "0000:3e:00.0");
        var probed = new CapacityModel(first.Name, CapacityKind.Exclusive,
            [.. first.Types.Where(type => type.Directory is not null).Select(type => new TypeCapacity(type.Id, (int)host.Core.GetAvailableInstances(type)))]);
        managed.CapacityModels.Save(probed);

        var node = NodeCapacityReader.Read(managed, "node1");

        Assert.Equal("node1", node.NodeName);
        Assert.Equal(["0000:3e:00.0", "0000:3f:00.0"], node.Parents.Select(parent => parent.Model.Parent));
        Assert.Equal(probed.Kind, node.Parents[0].Model.Kind);
        Assert.Equal(probed.Types, node.Parents[0].Model.Types);
        var unprobed = node.Parents[1];
        Assert.Equal((CapacityKind.Independent, false), (unprobed.Model.Kind, unprobed.Model.Verified));
        Assert.Equal(type.Id, Assert.Single(unprobed.Devices).Type);
        // The running device's instance counts in what the idle parent would hold.
        var offered = unprobed.Types.Single(info => info.Id == type.Id).AvailableInstances;
        Assert.Equal(offered + 1, unprobed.Model.Types.Single(capacity => capacity.Type == type.Id).Max);
        Assert.NotEmpty(ResourceSliceBuilder.Build(node, new HashSet<Guid>(), 1));
    }
}
