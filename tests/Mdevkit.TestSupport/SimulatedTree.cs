using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;

namespace Mdevkit.TestSupport;

/// <summary>
/// A simulated host written out as plain files under a <see cref="TempRoot"/>: directories, attribute files with
/// what they show now (write-only ones empty), and links with the kernel's relative targets. Reads through it
/// see the host as it was when written; writes land in plain files.
/// </summary>
public static class SimulatedTree
{
    /// <summary>Boots a built-in profile with one device of the given type on each listed parent.</summary>
    public static SimulatedHost Boot(string profile, params (string Parent, string Type, string Uuid)[] devices)
    {
        var host = SimulatedHost.Boot(HostProfile.Load(profile));
        foreach (var (parent, type, uuid) in devices)
        {
            if (!host.TryGetType(parent, type, out var mdevType) || host.Core.Create(mdevType, Guid.Parse(uuid)) != Mdevkit.Sysfs.Errno.None)
            {
                throw new InvalidOperationException($"cannot create {type} on {parent}");
            }
        }
        return host;
    }

    /// <summary>Writes the host's tree under <paramref name="root"/>, with mdevctl's empty directories beside it.</summary>
    public static void WriteTo(this SimulatedHost host, TempRoot root)
    {
        Write(host.Tree, host.Tree.Root, root);
        foreach (var directory in new[] { "etc/mdevctl.d", "usr/lib/mdevctl/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers" })
        {
            Directory.CreateDirectory(root.Join(directory));
        }
    }

    private static void Write(SysfsTree tree, SysfsDirectory directory, TempRoot root)
    {
        Directory.CreateDirectory(root.Join(directory.Path));
        foreach (var node in tree.List(directory))
        {
            switch (node)
            {
                case SysfsDirectory child:
                    Write(tree, child, root);
                    break;
                case SysfsLink link:
                    root.Link(link.Path, link.TargetText);
                    break;
                case SysfsAttribute attribute:
                    root.File(attribute.Path, attribute.Show?.Invoke() ?? "");
                    break;
            }
        }
    }
}
