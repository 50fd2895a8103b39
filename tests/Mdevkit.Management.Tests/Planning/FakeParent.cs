using Mdevkit.Management.Planning;

namespace Mdevkit.Management.Tests.Planning;

/// <summary>
/// A parent reduced to its availability rule (type counts → what each type offers), with devices that
/// can be made to fail or to cancel the probe at the Nth create.
/// </summary>
internal sealed class FakeParent(IReadOnlyList<string> types, Func<IReadOnlyDictionary<string, int>, string, int> available) : IProbeTarget
{
    private readonly Dictionary<Guid, string> _devices = [];

    public int Creates { get; private set; }

    public int? FailAtCreate { get; set; }

    public Action<int>? OnCreate { get; set; }

    public int DeviceCount => _devices.Count;

    public IReadOnlyDictionary<string, int> Counts => _devices.Values.CountBy(type => type).ToDictionary();

    public IReadOnlyDictionary<string, int> Availability() => types.ToDictionary(type => type, type => available(Counts, type));

    public Guid Create(string type)
    {
        Creates++;
        OnCreate?.Invoke(Creates);
        if (Creates == FailAtCreate || available(Counts, type) == 0)
        {
            throw new MdevctlException($"Failed to create mdev, type {type}", "No space left on device (os error 28)");
        }
        var uuid = Guid.NewGuid();
        _devices.Add(uuid, type);
        return uuid;
    }

    public void Remove(Guid uuid) => _devices.Remove(uuid);

    /// <summary>NVIDIA's time-sliced GPU: one type at a time, each with its own maximum.</summary>
    public static FakeParent Exclusive(params (string Type, int Max)[] types) => new([.. types.Select(type => type.Type)], (counts, type) =>
        counts.Any(count => count.Key != type && count.Value > 0) ? 0 : types.First(candidate => candidate.Type == type).Max - counts.GetValueOrDefault(type));

    /// <summary>One pool that every type draws its cost from (mbochs' memory, mtty's ports).</summary>
    public static FakeParent Pool(int pool, params (string Type, int Cost)[] types) => new([.. types.Select(type => type.Type)], (counts, type) =>
        (pool - counts.Sum(count => count.Value * types.First(candidate => candidate.Type == count.Key).Cost)) / types.First(candidate => candidate.Type == type).Cost);

    /// <summary>Types that do not affect each other.</summary>
    public static FakeParent Independent(params (string Type, int Max)[] types) => new([.. types.Select(type => type.Type)], (counts, type) =>
        types.First(candidate => candidate.Type == type).Max - counts.GetValueOrDefault(type));

    /// <summary>GVT-g's three resources (aperture, hidden memory, fences), each type taking some of each; the least left decides.</summary>
    public static FakeParent Gvt()
    {
        (string Type, int Low, int High)[] types = [("V5_1", 512, 2048), ("V5_2", 256, 1024), ("V5_4", 128, 512), ("V5_8", 64, 384)];
        return new([.. types.Select(type => type.Type)], (counts, type) =>
        {
            var low = 896 - counts.Sum(count => count.Value * types.First(t => t.Type == count.Key).Low);
            var high = 2688 - counts.Sum(count => count.Value * types.First(t => t.Type == count.Key).High);
            var fences = 28 - (4 * counts.Values.Sum());
            var wanted = types.First(t => t.Type == type);
            return Math.Max(0, Math.Min(Math.Min(low / wanted.Low, high / wanted.High), fences / 4));
        });
    }

    /// <summary>
    /// An SR-IOV GPU as a free virtual function shows it: 1 for each type that fits beside what runs. By default one
    /// framebuffer size at a time, up to what the framebuffer holds; with mixed sizes any that fit the framebuffer left.
    /// </summary>
    public static FakeParent Gpu(int framebuffer, int vfs, bool mixed, params (string Type, int Size)[] types) => new([.. types.Select(type => type.Type)], (counts, type) =>
    {
        var size = types.First(candidate => candidate.Type == type).Size;
        var used = counts.Where(count => count.Value > 0).Select(count => (types.First(candidate => candidate.Type == count.Key).Size, Count: count.Value)).ToList();
        var devices = used.Sum(count => count.Count);
        var fits = mixed
            ? used.Sum(count => count.Size * count.Count) + size <= framebuffer
            : used.All(count => count.Size == size) && devices < framebuffer / size;
        return fits && devices < vfs ? 1 : 0;
    });
}
