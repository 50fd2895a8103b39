using System.Diagnostics;
using System.Globalization;
using k8s.Models;
using Mdevkit.Bench.DraCluster;
using Mdevkit.Kubernetes;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Kubernetes.Slices;

// Placement of a stream of VM claims on N simulated hosts: DRA (each host's slices from its probed models, claims
// allocated with counters by the test harness's allocator) against the device-plugin way (one fixed type pre-created
// on each GPU, KubeVirt's default), on the same hosts and stream. Prints the Markdown section kept in docs/benchmarks.md.
//   dra-cluster.sh [SEEDS] [HOSTS] [CLAIMS-PER-HOST]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var seeds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var hostCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
var claimsPerHost = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;

string[] profiles = ["nvidia", "nvidia-ampere", "gvt", "nvidia-mixed"];
var probed = profiles.ToDictionary(profile => profile, ProfileProbe.Parents);

var output = new System.Text.StringBuilder();
output.AppendLine($"{hostCount} hosts, {claimsPerHost * hostCount} VM claims a seed.");
output.AppendLine();
output.AppendLine("| seed | devices published | claims | devices requested | placed: DRA | fixed type, most requested | fixed type, first seen | capacity unused: DRA | fixed type, most requested | fixed type, first seen | over-allocations | DRA allocation time |");
output.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
int beaten = 0, overAllocations = 0;
for (var seed = 1; seed <= seeds; seed++)
{
    var random = new Random(seed);
    var hosts = Enumerable.Range(0, hostCount).Select(index => new NodeCapacity($"node-{index:00}", probed[profiles[random.Next(profiles.Length)]])).ToList();
    var types = hosts.SelectMany(host => host.Parents.SelectMany(parent => parent.Model.Types.Where(type => type.Max > 0).Select(type => type.Type))).Distinct().Order(StringComparer.Ordinal).ToList();
    // A VM asks for one vGPU, one in ten for two; types are drawn by popularity, the k-th most popular (a seeded
    // order) with weight 1/k, as a few sizes carry most of the demand.
    var popularity = types.OrderBy(_ => random.Next()).ToList();
    var weights = popularity.Select((_, rank) => 1.0 / (rank + 1)).ToArray();
    string Draw()
    {
        var point = random.NextDouble() * weights.Sum();
        var index = 0;
        for (; index < weights.Length - 1 && point >= weights[index]; index++)
        {
            point -= weights[index];
        }
        return popularity[index];
    }
    var stream = Enumerable.Range(0, claimsPerHost * hostCount).Select(_ => (Type: Draw(), Count: random.Next(10) == 0 ? 2 : 1)).ToList();
    var requested = stream.Sum(claim => claim.Count);

    var slices = hosts.SelectMany(host => ResourceSliceBuilder.Build(host, new HashSet<Guid>(), 1)).ToList();
    var dra = Allocate(slices, stream);
    var popular = stream.GroupBy(claim => claim.Type).ToDictionary(group => group.Key, group => group.Sum(claim => claim.Count));
    var (commonPlaced, commonUnused) = FixedTypes.Place(hosts, stream, offered => offered.MaxBy(type => (popular.GetValueOrDefault(type), type))!);
    var firstSeen = stream.Select(claim => claim.Type).Distinct().ToList();
    var (firstPlaced, firstUnused) = FixedTypes.Place(hosts, stream, offered => offered.MinBy(type => firstSeen.IndexOf(type) is >= 0 and var index ? index : int.MaxValue)!);
    beaten += dra.Placed > commonPlaced && dra.Placed > firstPlaced ? 1 : 0;
    overAllocations += dra.Violations.Count;
    output.AppendLine($"| {seed} | {slices.Sum(slice => slice.Spec.Devices?.Count ?? 0)} | {stream.Count} | {requested} | {dra.Placed} | {commonPlaced} | {firstPlaced} | "
        + $"{FixedTypes.Unused(hosts, dra.Used):P1} | {commonUnused:P1} | {firstUnused:P1} | {dra.Violations.Count} | {dra.Time.TotalSeconds:F1} s |");
    foreach (var violation in dra.Violations)
    {
        Console.Error.WriteLine($"Error: seed {seed}: {violation}");
    }
}

// The stream's claims allocated in turn; what was placed, on which (node, parent, type), and the allocations' check.
static (int Placed, List<(string Node, string Parent, string Type)> Used, IReadOnlyList<string> Violations, TimeSpan Time) Allocate(
    List<V1ResourceSlice> slices, List<(string Type, int Count)> stream)
{
    var allocator = new Allocator([AllocatorClaims.DeviceClass(DraNames.Driver)]);
    var claims = new List<Resourcev1ResourceClaim>();
    var time = Stopwatch.StartNew();
    foreach (var (type, count) in stream)
    {
        var claim = AllocatorClaims.ForAttribute($"vm-{claims.Count}", DraNames.Driver, DraNames.TypeAttribute, type, count);
        if (allocator.Allocate(slices, claims, claim) is { } allocation)
        {
            claims.Add(claim with { Status = new V1ResourceClaimStatus { Allocation = allocation } });
        }
    }
    time.Stop();
    var devices = slices.SelectMany(slice => (slice.Spec.Devices ?? []).Select(device => (slice.Spec.Pool.Name, device))).ToDictionary(entry => (entry.Name, entry.device.Name), entry => entry.device);
    var results = claims.SelectMany(claim => claim.Status.Allocation.Devices.Results).ToList();
    return (results.Count, [.. results.Select(result => (result.Pool, devices[(result.Pool, result.Device)]))
        .Select(entry => (entry.Pool, entry.Item2.Attributes[DraNames.ParentAttribute].StringValue, entry.Item2.Attributes[DraNames.TypeAttribute].StringValue))],
        Allocator.Check(slices, claims), time.Elapsed);
}
output.AppendLine();
output.AppendLine($"DRA placed more devices than both fixed-type layouts on {beaten} of {seeds} seeds; {overAllocations} over-allocations.");
output.AppendLine($"Probed parents: {string.Join("; ", probed.Select(entry => $"{entry.Key}: {string.Join(", ", entry.Value.Select(ProfileProbe.Describe))}"))}.");
Console.Write(output);
return beaten == seeds && overAllocations == 0 ? 0 : 1;
