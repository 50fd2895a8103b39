using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

public sealed class WholeFileTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(WholeFileTests));

    [Fact]
    public void Read_FileLongerThanOnePage_IsReadWhole()
    {
        var text = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i}\n"));
        _root.File("etc/long", text);

        Assert.Equal(text, WholeFile.Read(_root.Join("etc/long")));
    }

    [Fact]
    public void Read_PastTheLimit_FailsWithEfbigInsteadOfExhaustingMemory()
    {
        var path = _root.Join("etc/huge");
        _root.File("etc/huge", "");
        // Sparse: the size is what counts, not the disk it takes.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(WholeFile.MaxLength + 1);
        }

        var failure = Assert.Throws<SysfsException>(() => WholeFile.Read(path));

        Assert.Equal(Errno.EFBIG, failure.Errno);
        Assert.Equal(path, failure.Path);
    }

    [Fact]
    public void Read_Missing_FailsWithEnoentAndThePath()
    {
        var failure = Assert.Throws<SysfsException>(() => WholeFile.Read(_root.Join("etc/missing")));

        Assert.Equal(Errno.ENOENT, failure.Errno);
        Assert.Equal(_root.Join("etc/missing"), failure.Path);
    }

    [Fact]
    public void TryReadRegular_ReadsOnlyRegularFiles()
    {
        _root.File("etc/regular", "text");
        _root.Link("etc/link", "regular");
        _root.Link("etc/dangling", "nothing");
        Assert.Equal(0, CommandRunner.Run("mkfifo", [_root.Join("etc/fifo")]).ExitCode);

        var read = new[] { "regular", "link", "dangling", "fifo", "" }
            .Select(name => WholeFile.TryReadRegular(_root.Join($"etc/{name}"), out var text) ? text : null);

        Assert.Equal(["text", null, null, null, null], read);
        Assert.Equal(Errno.ENOENT, Assert.Throws<SysfsException>(() => WholeFile.TryReadRegular(_root.Join("etc/missing"), out _)).Errno);
    }

    public void Dispose() => _root.Dispose();
}
