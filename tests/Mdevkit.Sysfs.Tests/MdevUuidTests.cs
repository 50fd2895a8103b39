using System.Text;

namespace Mdevkit.Sysfs.Tests;

public sealed class MdevUuidTests
{
    private const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    [Theory]
    [InlineData(Uuid)]
    [InlineData(Uuid + "\n")]
    [InlineData("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001")]
    [InlineData(Uuid + "x")] // the kernel inspects only the first 36 bytes
    public void ParseCreateInput_AcceptedByKernel_Parses(string input)
    {
        Assert.Equal(Errno.None, MdevUuid.ParseCreateInput(Encoding.ASCII.GetBytes(input), out var uuid));
        Assert.Equal(Uuid, MdevUuid.Format(uuid));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData(Uuid + "\r\n")] // 38 bytes
    [InlineData("83b8f4f2-509f-382f-3c1e-e6bfe0fa100")] // 35 bytes
    [InlineData("83b8f4f2509f382f3c1ee6bfe0fa1001")]
    [InlineData("{83b8f4f2-509f-382f-3c1e-e6bfe0fa10}")]
    [InlineData("83b8f4f2-509f-382f-3c1e-e6bfe0fa100g")]
    [InlineData("83b8f4f2+509f-382f-3c1e-e6bfe0fa1001")]
    [InlineData(" 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001")]
    [InlineData(Uuid + ",instances=10")] // aggregation was never merged
    public void ParseCreateInput_RejectedByKernel_IsEinval(string input)
    {
        Assert.Equal(Errno.EINVAL, MdevUuid.ParseCreateInput(Encoding.ASCII.GetBytes(input), out _));
    }

    [Fact]
    public void TryParse_RequiresExactCanonicalText()
    {
        Assert.True(MdevUuid.TryParse(Uuid, out _));
        Assert.False(MdevUuid.TryParse(Uuid + "\n", out _));
        Assert.False(MdevUuid.TryParse(null, out _));
        Assert.False(MdevUuid.TryParse("../../etc/passwd-0000-0000-0000000000", out _));
    }
}
