using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mdevkit.Kubernetes;

/// <summary>
/// The UUID of the mdev made for a claim's request: a name-based (version 5, RFC 9562) UUID of the claim's UID and the
/// request's name (and the device's place among the request's), so a prepare the kubelet retries, or that a restarted
/// plugin does again, names the same device.
/// </summary>
public static class DeviceUuids
{
    // RFC 9562's DNS namespace: the driver's own namespace is the name-based UUID of its name in it.
    private static readonly Guid s_dnsNamespace = new("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

    /// <summary>The namespace of the driver's device UUIDs: <c>uuid5(DNS, "mdev.mdevkit.io")</c>.</summary>
    public static Guid Namespace { get; } = NameBased(s_dnsNamespace, DraNames.Driver);

    /// <summary>
    /// The UUID of the <paramref name="index"/>-th device (in the allocation's order) made for <paramref name="request"/> of
    /// the claim whose UID is <paramref name="claimUid"/>. A request for several devices gets one UUID each; the first keeps
    /// the name of a request's only device.
    /// </summary>
    public static Guid For(string claimUid, string request, int index = 0) =>
        NameBased(Namespace, index == 0 ? $"{claimUid}/{request}" : $"{claimUid}/{request}/{index.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>A version 5 UUID of <paramref name="name"/> in <paramref name="space"/>.</summary>
    public static Guid NameBased(Guid space, string name)
    {
        var input = new byte[16 + Encoding.UTF8.GetByteCount(name)];
        space.TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input.AsSpan(16));
        // SHA-1 is what version 5 is defined with; it names, it does not protect.
#pragma warning disable CA5350
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
