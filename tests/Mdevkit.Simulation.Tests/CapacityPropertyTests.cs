using CsCheck;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>Random create/remove sequences against whole hosts: capacity is never exceeded and the offer always comes back.</summary>
public sealed class CapacityPropertyTests
{
    // The Ada host offers no mdev types at all.
    public static TheoryData<string> Profiles => [.. Simulation.Profiles.HostProfile.BuiltInNames.Where(name => name is not ("large" or "nvidia-ada"))];

    // An operation: create on the n-th visible type, or remove the n-th device.
    private static readonly Gen<(bool Create, int Pick)[]> s_operations = Gen.Select(Gen.Int[0, 3].Select(n => n != 0), Gen.Int[0, 1 << 20]).Array[1, 120];

    [Theory]
    [MemberData(nameof(Profiles))]
    public void RandomSequence_CreateSucceedsOnlyWhenAvailable_AndOfferReturns(string profile)
    {
        s_operations.Sample(operations =>
        {
            var host = HostFiles.Boot(profile);
            // A few virtual functions: enough to share a physical function, few enough to read the whole offer after each step.
            host.EnableVfs(3);
            var initial = host.Offer();
            foreach (var (create, pick) in operations)
            {
                var devices = host.Core.Devices;
                if (create || devices.Count == 0)
                {
                    var visible = host.Offer().Keys.ToArray();
                    var key = visible[pick % visible.Length];
                    var (parent, type) = (key[..key.LastIndexOf('/')], key[(key.LastIndexOf('/') + 1)..]);
                    var before = host.Available(parent, type);
                    var result = host.Create(parent, type, Guid.NewGuid());
                    // Never beyond capacity; within it, only a device that cannot work (ENODEV) refuses.
                    Assert.True(result == Errno.None ? before > 0 : before == 0 || result == Errno.ENODEV, $"{key}: available {before}, create gave {result}");
                    Assert.True(before > 0 || result is Errno.EUSERS or Errno.ENOSPC or Errno.EINVAL, $"{key}: full, but create gave {result}");
                }
                else
                {
                    Assert.Equal(Errno.None, host.Remove(devices[pick % devices.Count].Uuid));
                }
                foreach (var (key, available) in host.Offer())
                {
                    Assert.True(available <= initial.GetValueOrDefault(key, uint.MaxValue), $"{key} offers {available}, more than the {initial[key]} it started with");
                }
            }
            foreach (var device in host.Core.Devices)
            {
                Assert.Equal(Errno.None, host.Remove(device.Uuid));
            }
            Assert.Equal(initial, host.Offer());
        }, iter: 60);
    }
}
