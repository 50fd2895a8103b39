using System.Buffers.Binary;
using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>
/// libudev's netlink message, as udevd passes each event on to listeners (systemd's <c>sd-device-monitor</c>):
/// a 40-byte header, then the event's properties as <c>KEY=VALUE</c> strings each ending in a NUL. The header
/// starts with <see cref="Prefix"/> and the magic (big-endian); its sizes are in the machine's byte order.
/// </summary>
public static class UdevMessages
{
    /// <summary>The header's size, which is also where the properties start.</summary>
    public const int HeaderSize = 40;

    /// <summary>Guards against a sender and a library that disagree on the format; listeners' socket filters compare it.</summary>
    public const uint Magic = 0xfeedcafe;

    /// <summary>What every message starts with, to tell it from the kernel's <c>ACTION@DEVPATH</c> messages.</summary>
    public static ReadOnlySpan<byte> Prefix => "libudev\0"u8;

    /// <summary>Reads a message's properties, in order.</summary>
    /// <param name="message">A message as received.</param>
    /// <param name="properties">Its properties; a property without <c>=</c> is left out.</param>
    /// <returns>Whether it is a well-formed libudev message with ACTION, DEVPATH and SUBSYSTEM.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> message, out IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        properties = [];
        if (message.Length < HeaderSize || !message.StartsWith(Prefix) || BinaryPrimitives.ReadUInt32BigEndian(message[8..]) != Magic)
        {
            return false;
        }
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(message[16..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(message[20..]);
        if (offset < HeaderSize || offset > message.Length || length > message.Length - offset)
        {
            return false;
        }
        var list = new List<KeyValuePair<string, string>>();
        foreach (var entry in Encoding.UTF8.GetString(message.Slice((int)offset, (int)length)).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                list.Add(new(entry[..equals], entry[(equals + 1)..]));
            }
        }
        properties = list;
        return list.Any(property => property.Key == "ACTION") && list.Any(property => property.Key == "DEVPATH") && list.Any(property => property.Key == "SUBSYSTEM");
    }
}
