using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// A uevent as udevd passes it on to libudev's listeners on netlink (multicast group 2, "udev"), which is how
/// libvirt and <c>udevadm monitor --udev</c> learn of devices coming and going: a 40-byte header, then the
/// event's variables as <c>KEY=VALUE</c> strings, each ending in a NUL (systemd's <c>sd-device-monitor</c>).
/// </summary>
public static class UdevMessage
{
    /// <summary>
    /// The message for an event with the given udev tags. Listeners filter in the kernel on the header's
    /// hashes, which they compare as big-endian words; the header's sizes are in the machine's byte order.
    /// </summary>
    /// <param name="uevent">The event; its variables become the properties, in order.</param>
    /// <param name="tags">The device's udev tags: the <c>TAGS</c> and <c>CURRENT_TAGS</c> properties and the header's bloom filter.</param>
    public static byte[] Encode(Uevent uevent, IReadOnlyCollection<string> tags)
    {
        var properties = new StringBuilder();
        foreach (var (key, value) in uevent.Environment)
        {
            properties.Append(key).Append('=').Append(value).Append('\0');
        }
        if (tags.Count > 0)
        {
            var list = ":" + string.Join(':', tags) + ":";
            properties.Append("TAGS=").Append(list).Append('\0').Append("CURRENT_TAGS=").Append(list).Append('\0');
        }
        var body = Encoding.UTF8.GetBytes(properties.ToString());
        var message = new byte[UdevMessages.HeaderSize + body.Length];
        var header = message.AsSpan(0, UdevMessages.HeaderSize);
        UdevMessages.Prefix.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], UdevMessages.Magic);
        WriteNative(header[12..], UdevMessages.HeaderSize);
        WriteNative(header[16..], UdevMessages.HeaderSize);
        WriteNative(header[20..], (uint)body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(header[24..], Hash(uevent["SUBSYSTEM"] ?? ""));
        BinaryPrimitives.WriteUInt32BigEndian(header[28..], uevent["DEVTYPE"] is { } devtype ? Hash(devtype) : 0);
        var bloom = tags.Aggregate(0UL, (bits, tag) => bits | TagBloom(tag));
        BinaryPrimitives.WriteUInt32BigEndian(header[32..], (uint)(bloom >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(header[36..], (uint)bloom);
        body.CopyTo(message.AsSpan(UdevMessages.HeaderSize));
        return message;
    }

    /// <summary>udev's hash of a subsystem or device type: MurmurHash2 of its bytes with seed 0.</summary>
    public static uint Hash(string text) => MurmurHash2(Encoding.UTF8.GetBytes(text), 0);

    /// <summary>The four bits a tag sets in the 64-bit bloom filter: four 6-bit slices of its hash.</summary>
    public static ulong TagBloom(string tag)
    {
        var hash = Hash(tag);
        return (1UL << (int)(hash & 63)) | (1UL << (int)((hash >> 6) & 63)) | (1UL << (int)((hash >> 12) & 63)) | (1UL << (int)((hash >> 18) & 63));
    }

    /// <summary>Austin Appleby's MurmurHash2, 32-bit, reading whole words in the machine's byte order, as udev's does (sender and listeners share a machine).</summary>
    public static uint MurmurHash2(ReadOnlySpan<byte> data, uint seed)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var h = seed ^ (uint)data.Length;
        while (data.Length >= 4)
        {
            var k = MemoryMarshal.Read<uint>(data);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
            data = data[4..];
        }
        switch (data.Length)
        {
            case 3:
                h ^= (uint)data[2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[1] << 8;
                goto case 1;
            case 1:
                h ^= data[0];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }

    private static void WriteNative(Span<byte> destination, uint value) => MemoryMarshal.Write(destination, in value);
}
