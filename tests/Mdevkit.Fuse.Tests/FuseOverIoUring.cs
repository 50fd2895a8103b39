namespace Mdevkit.Fuse.Tests;

/// <summary>
/// Tests whose mounts run over io_uring: the fuse module's <c>enable_uring</c> parameter is on while they run,
/// alone, and back as it was afterwards. Every other test runs with the kernel's setting (off by default), so
/// over <c>/dev/fuse</c>.
/// </summary>
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class FuseOverIoUring : ICollectionFixture<FuseOverIoUring>, IDisposable
{
    public const string Collection = "FUSE over io_uring";
    private const string Parameter = "/sys/module/fuse/parameters/enable_uring";
    private readonly string _before;

    public FuseOverIoUring()
    {
        if (!File.Exists(Parameter))
        {
            throw new InvalidOperationException($"{Parameter} is missing: this kernel has no FUSE over io_uring (Linux 6.14 or later, CONFIG_FUSE_IO_URING)");
        }
        _before = File.ReadAllText(Parameter).Trim();
        File.WriteAllText(Parameter, "Y");
    }

    /// <summary>Asserts that the mount took the kernel's offer of io_uring and answered requests through it.</summary>
    internal static void AssertServes(FuseMount mount)
    {
        Assert.True(mount.Ring.Active, $"the mount on {mount.MountPoint} serves over /dev/fuse");
        Assert.True(mount.Ring.Served > 0, $"the mount on {mount.MountPoint} answered nothing over io_uring");
    }

    public void Dispose() => File.WriteAllText(Parameter, _before);
}
