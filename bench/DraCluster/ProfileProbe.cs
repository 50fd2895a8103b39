using System.Globalization;
using System.Text;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Bench.DraCluster;

/// <summary>
/// A simulator profile booted in memory and probed as <c>mdevkit probe</c> probes a host: each mdev parent through
/// <see cref="CapacityInference.Infer"/>, each SR-IOV GPU (its virtual functions enabled) through
/// <see cref="CapacityInference.InferGpu"/>, creating and removing devices in the simulated kernel.
/// </summary>
internal static class ProfileProbe
{
    /// <summary>The parents of a booted profile as the slices publish them, idle.</summary>
    public static IReadOnlyList<SliceParent> Parents(string profile)
    {
        var host = SimulatedHost.Boot(HostProfile.Load(profile));
        var core = host.Core;
        foreach (var function in core.Parents.Where(parent => host.Tree.TryLookup($"{parent.Directory.Path}/{SysfsNames.SriovTotalVfs}", out _)))
        {
            Write(host, $"{function.Directory.Path}/{SysfsNames.SriovNumVfs}", Read(host, $"{function.Directory.Path}/{SysfsNames.SriovTotalVfs}"));
        }
        var parents = new List<SliceParent>();
        foreach (var parent in core.Parents.Where(parent => parent.IsMdevParent && parent.PhysicalFunction is null))
        {
            parents.Add(new SliceParent(CapacityInference.Infer(parent.Name, new Target(core, [parent])), Types(core, parent), []));
        }
        foreach (var gpu in core.Parents.Where(parent => core.GetVirtualFunctions(parent).Count > 0))
        {
            var functions = core.GetVirtualFunctions(gpu).Where(function => function.IsMdevParent).ToList();
            if (functions.Count == 0)
            {
                continue;
            }
            var types = Types(core, functions[0]);
            var sizes = types.ToDictionary(type => type.Id, VgpuFramebuffer.MiB);
            parents.Add(new SliceParent(CapacityInference.InferGpu(gpu.Name, functions.Count, new Target(core, functions), sizes), types, []));
        }
        return parents;
    }

    private static List<MdevTypeInfo> Types(MdevCore core, ParentDevice parent) =>
        [.. parent.Types.Where(type => type.Directory is not null).Select(type => new MdevTypeInfo(type.Id, (int)core.GetAvailableInstances(type),
            parent.Driver.DeviceApi, type.Name, (parent.Driver as IDescriptionHook)?.ShowDescription(type.Spec)))];

    private static string Read(SimulatedHost host, string path)
    {
        if (host.Tree.Open(path, FileAccess.Read, Caller.Root, out var file) != Errno.None)
        {
            throw new InvalidOperationException($"cannot open {path}");
        }
        var buffer = new byte[(int)SysfsAttribute.ReportedSize];
        return Encoding.UTF8.GetString(buffer, 0, file!.Read(0, buffer)).Trim();
    }

    private static void Write(SimulatedHost host, string path, string text)
    {
        var data = Encoding.UTF8.GetBytes(text + "\n");
        if (host.Tree.Open(path, FileAccess.Write, Caller.Root, out var file) != Errno.None || file!.Write(data) != data.Length)
        {
            throw new InvalidOperationException($"cannot write {text} to {path}");
        }
    }

    // A parent, or an SR-IOV GPU's virtual functions with one device each, as the probe sees them: the offer of the
    // first place without a device, a device made on it.
    private sealed class Target(MdevCore core, IReadOnlyList<ParentDevice> places) : IProbeTarget
    {
        private bool OnePerPlace => places.Count > 1;

        private ParentDevice? Free => places.FirstOrDefault(place => !OnePerPlace || core.Devices.All(device => device.Parent != place));

        public IReadOnlyDictionary<string, int> Availability() =>
            Free is { } place ? place.Types.Where(type => type.Directory is not null).ToDictionary(type => type.Id, type => (int)core.GetAvailableInstances(type)) : [];

        public Guid Create(string type)
        {
            var uuid = Guid.NewGuid();
            var made = Free?.Types.FirstOrDefault(candidate => candidate.Id == type) is { } target ? core.Create(target, uuid) : Errno.ENODEV;
            return made == Errno.None ? uuid : throw new InvalidOperationException($"create {type}: {made}");
        }

        public void Remove(Guid uuid)
        {
            if (core.TryGetDevice(uuid, out var device))
            {
                core.Remove(device);
            }
        }
    }

    /// <summary>How a parent's model reads in the bench's notes.</summary>
    public static string Describe(SliceParent parent) =>
        $"{parent.Model.Parent} {parent.Model.Kind.ToString().ToLowerInvariant()} ({parent.Model.Types.Count(type => type.Max > 0).ToString(CultureInfo.InvariantCulture)} types)";
}
