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
// With --live, DRA runs on real parts (see Live); the fixed types are still placed in memory, on the same hosts and stream.
//   dra-cluster.sh [--live] [SEEDS [HOSTS [CLAIMS-PER-HOST]]]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var live = args.Length > 0 && args[0] == "--live";
var numbers = live ? args[1..] : args;
var seeds = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 5;
// Live, each host is a mount, a plugin process and a probe of every parent: 8 hosts keep 5 seeds within minutes on 2 cores.
var hostCount = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : live ? 8 : 16;
var claimsPerHost = numbers.Length > 2 ? int.Parse(numbers[2], CultureInfo.InvariantCulture) : 8;
if (live && (!Environment.IsPrivilegedProcess || !File.Exists("/dev/fuse")))
{
    Console.Error.WriteLine("Error: --live mounts a simulated host per node through FUSE: it must run as root, with /dev/fuse");
    return 2;
}

string[] profiles = ["nvidia", "nvidia-ampere", "gvt", "nvidia-mixed"];
var probed = profiles.ToDictionary(profile => profile, ProfileProbe.Parents);

var output = new System.Text.StringBuilder();
output.AppendLine($"{hostCount} hosts, {claimsPerHost * hostCount} VM claims a seed{(live ? ", DRA live: each host mounted with its own mdevkit-dra and fake kubelet; the fixed types placed in memory" : "")}.");
output.AppendLine();
output.AppendLine(live
    ? "| seed | hosts | devices requested | allocated | placed: DRA live | refused | prepares failed | DRA in memory | fixed type, most requested | fixed type, first seen | capacity unused: DRA live | fixed type, most requested | fixed type, first seen | over-allocations | cluster start | stream |"
    : "| seed | devices published | claims | devices requested | placed: DRA | fixed type, most requested | fixed type, first seen | capacity unused: DRA | fixed type, most requested | fixed type, first seen | over-allocations | DRA allocation time |");
output.AppendLine(live ? "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
int beaten = 0, overAllocations = 0, failedPrepares = 0, sameAsInMemory = 0;
for (var seed = 1; seed <= seeds; seed++)
{
    var workload = Workload.Draw(seed, hostCount, claimsPerHost, probed, profiles);
    var (hosts, stream) = (workload.Hosts, workload.Stream);
    var slices = hosts.SelectMany(host => ResourceSliceBuilder.Build(host, new HashSet<Guid>(), 1)).ToList();
    var dra = Allocate(slices, stream);
    var popular = stream.GroupBy(claim => claim.Type).ToDictionary(group => group.Key, group => group.Sum(claim => claim.Count));
    var (commonPlaced, commonUnused) = FixedTypes.Place(hosts, stream, offered => offered.MaxBy(type => (popular.GetValueOrDefault(type), type))!);
    var firstSeen = stream.Select(claim => claim.Type).Distinct().ToList();
    var (firstPlaced, firstUnused) = FixedTypes.Place(hosts, stream, offered => offered.MinBy(type => firstSeen.IndexOf(type) is >= 0 and var index ? index : int.MaxValue)!);
    if (!live)
    {
        Report(seed, dra.Placed, dra.Violations);
        output.AppendLine($"| {seed} | {slices.Sum(slice => slice.Spec.Devices?.Count ?? 0)} | {stream.Count} | {workload.Requested} | {dra.Placed} | {commonPlaced} | {firstPlaced} | "
            + $"{FixedTypes.Unused(hosts, dra.Used):P1} | {commonUnused:P1} | {firstUnused:P1} | {dra.Violations.Count} | {dra.Time.TotalSeconds:F1} s |");
        continue;
    }
    Console.Error.WriteLine($"seed {seed}: starting {string.Join(", ", hosts.Select((host, index) => $"{host.NodeName} ({workload.Profiles[index]})"))}");
    var run = await Live.RunAsync(workload, CancellationToken.None);
    Report(seed, run.Placed, run.Violations);
    failedPrepares += run.Failures.Count;
    sameAsInMemory += run.Placed == dra.Placed ? 1 : 0;
    foreach (var failure in run.Failures)
    {
        Console.Error.WriteLine($"Error: seed {seed}: preparing {failure}");
    }
    var mix = string.Join(", ", workload.Profiles.CountBy(profile => profile).OrderBy(entry => Array.IndexOf(profiles, entry.Key)).Select(entry => $"{entry.Value} {entry.Key}"));
    output.AppendLine($"| {seed} | {mix} | {workload.Requested} | {run.Allocated} | {run.Placed} | {workload.Requested - run.Allocated} | {run.Failures.Count} | {dra.Placed} | {commonPlaced} | {firstPlaced} | "
        + $"{FixedTypes.Unused(hosts, run.Used):P1} | {commonUnused:P1} | {firstUnused:P1} | {run.Violations.Count} | {run.Start.TotalSeconds:F0} s | {run.Run.TotalSeconds:F0} s |");
    Console.Error.WriteLine($"seed {seed}: {run.Placed} of {workload.Requested} devices placed live ({dra.Placed} in memory), pools republished with changes: {run.Republished}");

    // DRA beats the fixed types on a seed when it places more than both layouts; every violation is an over-allocation.
    void Report(int seed, int placed, IReadOnlyList<string> violations)
    {
        beaten += placed > commonPlaced && placed > firstPlaced ? 1 : 0;
        overAllocations += violations.Count;
        foreach (var violation in violations)
        {
            Console.Error.WriteLine($"Error: seed {seed}: {violation}");
        }
    }
}

// The stream's claims allocated in turn; what was placed, on which (node, parent, type), and the allocations' check.
static (int Placed, List<(string Node, string Parent, string Type)> Used, IReadOnlyList<string> Violations, TimeSpan Time) Allocate(
    List<V1ResourceSlice> slices, IReadOnlyList<(string Type, int Count)> stream)
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
    var results = claims.SelectMany(claim => claim.Status.Allocation.Devices.Results).ToList();
    return (results.Count, Placements.Used(slices, results), Allocator.Check(slices, claims), time.Elapsed);
}
output.AppendLine();
output.AppendLine($"DRA{(live ? " (live)" : "")} placed more devices than both fixed-type layouts on {beaten} of {seeds} seeds; {overAllocations} over-allocations.");
if (live)
{
    output.AppendLine($"Prepares failed: {failedPrepares}. Live placed as many devices as the in-memory allocation on {sameAsInMemory} of {seeds} seeds.");
}
output.AppendLine($"Probed parents: {string.Join("; ", probed.Select(entry => $"{entry.Key}: {string.Join(", ", entry.Value.Select(ProfileProbe.Describe))}"))}.");
Console.Write(output);
return beaten == seeds && overAllocations == 0 && failedPrepares == 0 ? 0 : 1;
