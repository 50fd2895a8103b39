using Mdevkit.Simulation.Tree;

namespace Mdevkit.Fuse.Tests;

/// <summary>The mounted simulator seen from a shell: writes, reads, listings, links and the shell's error texts.</summary>
public sealed class ShellTests : IDisposable
{
    private const string Mtty = "sys/class/mdev_bus/mtty/mdev_supported_types";
    private const string Mdpy = "sys/class/mdev_bus/mdpy/mdev_supported_types";
    private const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    private readonly MountedHost _mounted = new("samples", nameof(ShellTests));

    public void Dispose() => _mounted.Dispose();

    [Fact]
    public void EchoIntoCreateAndRemove_MakesAndDestroysTheDevice()
    {
        var create = _mounted.Bash($"echo {Uuid} > {Mtty}/mtty-2/create && ls {Mtty}/mtty-2/devices && cat {Mtty}/mtty-1/available_instances {Mtty}/mtty-2/available_instances && readlink sys/bus/mdev/devices/{Uuid} {Mtty}/../{Uuid}/mdev_type");
        var remove = _mounted.Bash($"echo 1 > sys/bus/mdev/devices/{Uuid}/remove && ls {Mtty}/mtty-2/devices sys/bus/mdev/devices && cat {Mtty}/mtty-2/available_instances");

        Assert.Equal("", create.Error);
        Assert.Equal($"{Uuid}\n22\n11\n../../../devices/virtual/mtty/mtty/{Uuid}\n../mdev_supported_types/mtty-2\n", create.Output);
        Assert.Equal(new(0, $"sys/bus/mdev/devices:\n\n{Mtty}/mtty-2/devices:\n12\n", ""), remove);
        Assert.Empty(_mounted.Host.Core.Devices);
    }

    [Fact]
    public void CreateWithoutTrailingNewlineAndInUpperCase_IsAccepted()
    {
        var result = _mounted.Bash($"printf %s {Uuid.ToUpperInvariant()} > {Mtty}/mtty-1/create && ls {Mtty}/mtty-1/devices");

        Assert.Equal(new(0, Uuid + "\n", ""), result);
    }

    [Theory]
    [InlineData("not-a-uuid", "Invalid argument")]
    [InlineData("", "Invalid argument")]
    [InlineData(Uuid, "File exists")]
    public void BadWriteToCreate_GivesTheKernelsErrno(string text, string message)
    {
        var setup = _mounted.Bash($"echo {Uuid} > {Mtty}/mtty-1/create");
        var result = _mounted.Bash($"echo '{text}' > {Mdpy}/mdpy-vga/create");

        Assert.Equal(0, setup.ExitCode);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"echo: write error: {message}\n", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage", "Invalid argument", true)]
    [InlineData("0", null, true)]
    [InlineData("0x1", null, false)]
    public void WriteToRemove_ParsesANumber(string text, string? message, bool stillThere)
    {
        _mounted.Bash($"echo {Uuid} > {Mtty}/mtty-1/create");

        var result = _mounted.Bash($"echo {text} > sys/bus/mdev/devices/{Uuid}/remove");

        Assert.Equal(message is null ? 0 : 1, result.ExitCode);
        Assert.Equal(message is null ? "" : $"write error: {message}", result.Error.Split("echo: ").Last().Trim());
        Assert.Equal(stillThere, _mounted.Host.Core.Devices.Count == 1);
    }

    [Fact]
    public void CreateBeyondCapacity_GivesEachDriversErrno()
    {
        // mtty counts its own ports (ENOSPC); mdpy leaves the counting to the core (EUSERS).
        var result = _mounted.Bash($"""
            for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo 00000000-0000-0000-0000-0000000000$((10 + i)) > {Mtty}/mtty-2/create; done
            echo 00000000-0000-0000-0000-000000000099 > {Mtty}/mtty-1/create
            for i in 1 2 3 4; do echo 00000000-0000-0000-0000-0000000001$((10 + i)) > {Mdpy}/mdpy-hd/create; done
            echo 00000000-0000-0000-0000-000000000199 > {Mdpy}/mdpy-vga/create
            cat {Mtty}/mtty-1/available_instances {Mdpy}/mdpy-vga/available_instances
            """);

        Assert.Equal("0\n0\n", result.Output);
        Assert.Equal(["echo: write error: No space left on device", "echo: write error: Too many users"],
            result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.IndexOf("echo:", StringComparison.Ordinal))..]));
    }

    [Fact]
    public void WritingAReadOnlyAttributeOrReadingCreate_IsDenied()
    {
        var write = _mounted.Bash($"echo x > {Mtty}/mtty-1/name");
        var read = _mounted.Bash($"cat {Mtty}/mtty-1/create");

        Assert.EndsWith($"{Mtty}/mtty-1/name: Permission denied\n", write.Error, StringComparison.Ordinal);
        Assert.Equal(new(1, "", $"cat: {Mtty}/mtty-1/create: Permission denied\n"), read);
    }

    [Fact]
    public void NonRootUser_ReadsButCannotCreate()
    {
        var result = _mounted.Bash($"setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'cat {Mtty}/mtty-1/available_instances; echo {Uuid} > {Mtty}/mtty-1/create'");

        Assert.Equal("24\n", result.Output);
        Assert.EndsWith($"{Mtty}/mtty-1/create: Permission denied\n", result.Error, StringComparison.Ordinal);
        Assert.Empty(_mounted.Host.Core.Devices);
    }

    [Fact]
    public void CatOfEveryReadableAttribute_ShowsWhatTheModelShows()
    {
        _mounted.Bash($"echo {Uuid} > {Mdpy}/mdpy-xga/create");
        var expected = Attributes(Sys)
            .Where(attribute => attribute.Show is not null)
            .SelectMany(attribute => attribute.Show!().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => $"{attribute.Path}:{line}"))
            .Order(StringComparer.Ordinal);
        var writeOnly = Attributes(Sys).Where(attribute => attribute.Show is null).Select(attribute => $"grep: {attribute.Path}: Permission denied").Order(StringComparer.Ordinal);

        // grep -r reads every regular file without following links, so each attribute is read once.
        var result = _mounted.Bash("grep -r '' sys | LC_ALL=C sort");

        Assert.Equal(string.Join('\n', expected), result.Output.TrimEnd('\n'));
        Assert.Equal(string.Join('\n', writeOnly), string.Join('\n', result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void ListingOfTheWholeTree_HasSysfsModesAndLinks()
    {
        _mounted.Bash($"echo {Uuid} > {Mtty}/mtty-1/create");
        var expected = Nodes(Sys).Select(node => node switch
        {
            SysfsDirectory => $"d{Permissions(node.Mode)} {node.Path} ",
            SysfsLink link => $"l{Permissions(node.Mode)} {node.Path} {link.TargetText}",
            _ => $"-{Permissions(node.Mode)} {node.Path} ",
        }).Order(StringComparer.Ordinal);

        var result = _mounted.Bash("find sys -mindepth 1 -printf '%M %p %l\\n' | LC_ALL=C sort");

        Assert.Equal("", result.Error);
        Assert.Equal(string.Join('\n', expected), result.Output.TrimEnd('\n'));
    }

    [Fact]
    public void DeviceCreatedInTheModel_IsVisibleAtOnce()
    {
        var before = File.ReadAllText(_mounted.Join($"{Mdpy}/mdpy-vga/available_instances"));
        Assert.True(_mounted.Host.TryGetType("mdpy", "mdpy-vga", out var type));

        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Core.Create(type, Guid.Parse(Uuid)));

        Assert.Equal(("4\n", "3\n"), (before, File.ReadAllText(_mounted.Join($"{Mdpy}/mdpy-vga/available_instances"))));
        Assert.Equal([Uuid], Directory.GetFileSystemEntries(_mounted.Join($"{Mdpy}/mdpy-vga/devices")).Select(Path.GetFileName));
        Assert.True(Directory.Exists(_mounted.Join($"sys/bus/mdev/devices/{Uuid}")));
    }

    private SysfsDirectory Sys => _mounted.Host.Tree.TryLookup("sys", out var sys) ? (SysfsDirectory)sys : throw new InvalidOperationException("no sys");

    private IEnumerable<SysfsNode> Nodes(SysfsDirectory directory) =>
        _mounted.Host.Tree.List(directory).SelectMany(child => child is SysfsDirectory subdirectory ? Nodes(subdirectory).Prepend(child) : [child]);

    private IEnumerable<SysfsAttribute> Attributes(SysfsDirectory directory) => Nodes(directory).OfType<SysfsAttribute>();

    private static string Permissions(UnixFileMode mode) => string.Concat(
        from bit in new[] { 8, 7, 6, 5, 4, 3, 2, 1, 0 }
        select ((int)mode & (1 << bit)) == 0 ? '-' : "rwx"[(8 - bit) % 3]);
}
