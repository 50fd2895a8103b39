namespace Mdevkit.Sysfs.Tests;

public sealed class MountTableTests
{
    [Fact]
    public void Parse_ReadsMountPointTypeAndSource_PastOptionalFields()
    {
        var mounts = MountTable.Parse(
            "22 1 0:21 / /sys rw,nosuid shared:7 master:1 - sysfs sysfs rw\n" +
            "42 27 0:39 / /run/mdevkit/sim/sys rw,nosuid,nodev,relatime - fuse.mdevkit-sim mdevkit rw,user_id=0\n");

        Assert.Equal(
            [new Mount("/sys", "sysfs", "sysfs"), new Mount("/run/mdevkit/sim/sys", "fuse.mdevkit-sim", "mdevkit")],
            mounts);
    }

    [Fact]
    public void Parse_UnescapesTheKernelsOctalEscapes()
    {
        var mounts = MountTable.Parse("42 27 0:39 / /tmp/with\\040space/tab\\011and\\134backslash/\\303\\251 rw - tmpfs my\\040disk rw\n");

        Assert.Equal([new Mount("/tmp/with space/tab\tand\\backslash/é", "tmpfs", "my disk")], mounts);
    }

    [Fact]
    public void Parse_LeavesOutLinesNotInTheFormat()
    {
        Assert.Empty(MountTable.Parse("garbage\n1 2 3\n\n"));
    }

    [Fact]
    public void IsMountPoint_KnowsTheRootAndNotAPlainDirectory()
    {
        Assert.True(MountTable.IsMountPoint("/"));
        Assert.False(MountTable.IsMountPoint(Path.GetFullPath(AppContext.BaseDirectory).TrimEnd('/')));
    }
}
