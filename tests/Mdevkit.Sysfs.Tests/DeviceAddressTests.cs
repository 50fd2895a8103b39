namespace Mdevkit.Sysfs.Tests;

public sealed class DeviceAddressTests
{
    [Theory]
    [InlineData("0000:3e:00.0", "0000:3e:00.0")]
    [InlineData("0000:3E:1f.7", "0000:3e:1f.7")]
    [InlineData("10000:01:00.0", "10000:01:00.0")]
    public void PciAddress_KernelNames_RoundTrip(string text, string canonical)
    {
        Assert.True(PciAddress.TryParse(text, out var address));
        Assert.Equal(canonical, address.ToString());
    }

    [Theory]
    [InlineData("0000:3e:00")]
    [InlineData("000:3e:00.0")]
    [InlineData("0000:3e:20.0")]
    [InlineData("0000:3e:00.8")]
    [InlineData("0.0.0123")]
    public void PciAddress_OtherText_IsNotOne(string text) => Assert.False(PciAddress.TryParse(text, out _));

    [Fact]
    public void PciAddress_RootComplex_IsTheDomainsFirstBus() =>
        Assert.Equal("pci0001:00", new PciAddress(1, 0x3e, 0, 0).RootComplex);

    [Theory]
    [InlineData("0.0.0123", 0, 0, 0x123)]
    [InlineData("fe.3.ffff", 0xfe, 3, 0xffff)]
    public void SubchannelAddress_KernelNames_Parse(string text, int css, int set, int number)
    {
        Assert.True(SubchannelAddress.TryParse(text, out var address));
        Assert.Equal((new SubchannelAddress(css, set, number), text), (address, address.ToString()));
    }

    [Theory]
    [InlineData("0.0.123")]
    [InlineData("0.4.0123")]
    [InlineData("100.0.0123")]
    [InlineData("0000:3e:00.0")]
    public void SubchannelAddress_OtherText_IsNotOne(string text) => Assert.False(SubchannelAddress.TryParse(text, out _));
}
