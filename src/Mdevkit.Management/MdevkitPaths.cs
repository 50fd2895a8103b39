namespace Mdevkit.Management;

/// <summary>
/// Where mdevkit's own files live below a root, apart from mdevctl's (<see cref="MdevctlEnvironment"/>):
/// the one place that spells them. All are relative to the root.
/// </summary>
public static class MdevkitPaths
{
    /// <summary>Runtime files: the root's lock, and a simulator's socket, pid and log.</summary>
    public const string RunDirectory = "run/mdevkit";

    /// <summary>The root's lock (<see cref="RootLock"/>).</summary>
    public const string LockFile = RunDirectory + "/lock";

    /// <summary>
    /// The UUIDs mdevkit gave the vGPUs of NVIDIA's vendor-specific VFIO, which the kernel does not keep: one file per
    /// virtual function, <c>&lt;uuid&gt; &lt;type id&gt;</c>. Runtime state, gone with the functions at reboot.
    /// </summary>
    public const string VendorVgpuDirectory = RunDirectory + "/vgpus";

    /// <summary>The write-ahead journal of the transaction under way (<see cref="Planning.DeviceTransaction"/>).</summary>
    public const string TransactionJournal = RunDirectory + "/transaction.journal";

    /// <summary>What the host should carry (<see cref="Reconcile.HostDeclaration"/>).</summary>
    public const string Declaration = "etc/mdevkit/host.json";

    /// <summary>The devices the reconciler made and so may remove (<see cref="Reconcile.OwnedDevices"/>).</summary>
    public const string OwnedDevices = "var/lib/mdevkit/owned.json";

    /// <summary>The agent's API socket (<c>mdevkitd</c>).</summary>
    public const string AgentSocket = RunDirectory + "/mdevkitd.sock";

    /// <summary>The agent's socket below <paramref name="root"/>, where it listens unless told otherwise.</summary>
    public static string AgentSocketBelow(string root) => Path.Join(Path.GetFullPath(root), AgentSocket);

    /// <summary>The root's own network namespace, where a simulated host's udev events are heard (bound here by the simulator).</summary>
    public const string NetworkNamespace = RunDirectory + "/netns";

    /// <summary>Probed capacity models, one <c>&lt;parent&gt;.json</c> each.</summary>
    public const string CapacityDirectory = "var/lib/mdevkit/capacity";

    /// <summary>The agent's configuration (<c>mdevkitd</c>): TCP addresses, TLS, and the hashes of the tokens it accepts.</summary>
    public const string AgentConfiguration = "etc/mdevkit/mdevkitd.json";

    /// <summary>Groups, one file of UUIDs each.</summary>
    public const string GroupsDirectory = "etc/mdevkit/groups";

    /// <summary>rwxr-xr-x, for the directories mdevkit makes: everyone may look, only root may change.</summary>
    public const UnixFileMode SharedDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
}
