using System.Text;

namespace Mdevkit.Simulation.Tests;

/// <summary>
/// The message libudev's listeners receive, byte for byte. "" and "a" are MurmurHash2's published values; the others
/// are the ones udevadm's in-kernel filters accept: <c>UdevMonitorTests</c> runs <c>udevadm monitor --subsystem-match --tag-match</c> on them.
/// </summary>
public sealed class UdevMessageTests
{
    private static readonly Uevent s_add = new("add", "/devices/virtual/mtty/mtty/u", new Dictionary<string, string>
    {
        ["ACTION"] = "add",
        ["DEVPATH"] = "/devices/virtual/mtty/mtty/u",
        ["SUBSYSTEM"] = "mdev",
        ["SEQNUM"] = "7",
    });

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0x92685f5eu)]
    [InlineData("pci", 0x59163b92u)]
    [InlineData("mdev", 0xbb5211c7u)]
    [InlineData("mdevkit", 0x25184437u)]
    public void Hash_IsMurmurHash2WithSeedZero(string text, uint expected) =>
        Assert.Equal(expected, UdevMessage.Hash(text));

    [Fact]
    public void TagBloom_SetsTheBitsOfFourSixBitSlicesOfTheHash()
    {
        var hash = UdevMessage.Hash("mdevkit");

        var bloom = UdevMessage.TagBloom("mdevkit");

        Assert.Equal((1UL << (int)(hash & 63)) | (1UL << (int)((hash >> 6) & 63)) | (1UL << (int)((hash >> 12) & 63)) | (1UL << (int)((hash >> 18) & 63)), bloom);
    }

    [Fact]
    public void Encode_WritesTheHeaderThenEachVariableEndingInANul()
    {
        var message = UdevMessage.Encode(s_add, ["mdevkit"]);

        var properties = "ACTION=add\0DEVPATH=/devices/virtual/mtty/mtty/u\0SUBSYSTEM=mdev\0SEQNUM=7\0TAGS=:mdevkit:\0CURRENT_TAGS=:mdevkit:\0";
        var bloom = UdevMessage.TagBloom("mdevkit");
        byte[] header =
        [
            .. "libudev\0"u8,
            0xfe, 0xed, 0xca, 0xfe,
            .. BitConverter.GetBytes(40u),
            .. BitConverter.GetBytes(40u),
            .. BitConverter.GetBytes((uint)properties.Length),
            0xbb, 0x52, 0x11, 0xc7,
            0, 0, 0, 0,
            .. BigEndian((uint)(bloom >> 32)),
            .. BigEndian((uint)bloom),
        ];
        Assert.Equal([.. header, .. Encoding.UTF8.GetBytes(properties)], message);
    }

    [Fact]
    public void Encode_WithoutTags_HasNoTagPropertiesAndAnEmptyBloom()
    {
        var message = UdevMessage.Encode(s_add with { Environment = new Dictionary<string, string>(s_add.Environment) { ["DEVTYPE"] = "vgpu" } }, []);

        Assert.Equal(BigEndian(UdevMessage.Hash("vgpu")), message[28..32]);
        Assert.Equal(new byte[8], message[32..40]);
        Assert.EndsWith("SEQNUM=7\0DEVTYPE=vgpu\0", Encoding.UTF8.GetString(message), StringComparison.Ordinal);
    }

    private static byte[] BigEndian(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
