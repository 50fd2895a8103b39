using System.Diagnostics;
using System.Globalization;
using Mdevkit.Bench.PlanQuality;
using Mdevkit.Management.Planning;

// Placement quality of `mdevkit plan`: on seeded random hosts and request streams, the share of requested
// devices placed by the planner, by first-fit in request order, and (on small instances) by exhaustive search.
// Prints a Markdown section for docs/benchmarks.md.
var seed = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1;
var random = new Random(seed);
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Three parent kinds, as the probe finds them on the simulator's profiles: an M60-like GPU (one type at a
// time), a GVT-g-like pool (costs 3/4/8/16 of 21 units), and an mbochs-like pool (costs 1/4/16 of 64).
string[] gpuTypes = ["nvidia-11", "nvidia-13", "nvidia-16", "nvidia-19", "nvidia-21"];
int[] gpuMax = [16, 8, 4, 2, 1];
string[] gvtTypes = ["V5_8", "V5_4", "V5_2", "V5_1"];
int[] gvtCost = [3, 4, 8, 16];
string[] bochsTypes = ["small", "medium", "large"];
int[] bochsCost = [1, 4, 16];

Bin Parent(int index)
{
    var kind = random.Next(3);
    var name = $"p{index}";
    return kind switch
    {
        0 => new Bin(new CapacityModel(name, CapacityKind.Exclusive, [.. gpuTypes.Select((type, i) => new TypeCapacity(type, gpuMax[i]))]), new Dictionary<string, int>()),
        1 => new Bin(new CapacityModel(name, CapacityKind.SharedPool, [.. gvtTypes.Select((type, i) => new TypeCapacity(type, 21 / gvtCost[i], gvtCost[i]))], 21), new Dictionary<string, int>()),
        _ => new Bin(new CapacityModel(name, CapacityKind.SharedPool, [.. bochsTypes.Select((type, i) => new TypeCapacity(type, 64 / bochsCost[i], bochsCost[i]))], 64), new Dictionary<string, int>()),
    };
}

// NVIDIA's SR-IOV GPUs (Ampere's mdev on virtual functions, vGPU 17+'s vendor-specific VFIO), as the probe finds an A40
// or L40S: 48 GB and 32 virtual functions; Q types of 1/2/4/8/12/24/48 GB and A types of 1/4/12 GB. Three in four GPUs
// hold one framebuffer size at a time (the default), one in four has mixed sizes on (a 48 GB pool, one vGPU a VF).
(string Type, int Size)[] sriovTypes = [("1Q", 1), ("2Q", 2), ("4Q", 4), ("8Q", 8), ("12Q", 12), ("24Q", 24), ("48Q", 48), ("1A", 1), ("4A", 4), ("12A", 12)];

Bin SriovGpu(int index)
{
    var mixed = random.Next(4) == 0;
    var types = sriovTypes.Select(type => new TypeCapacity(type.Type, Math.Min(48 / type.Size, 32), mixed ? type.Size : null, type.Size));
    return new Bin(new CapacityModel($"g{index}", mixed ? CapacityKind.SharedPool : CapacityKind.OneSize, [.. types], mixed ? 48 : null, Slots: 32), new Dictionary<string, int>());
}

// A request stream: items of a random offered type, each 1..maxCount devices, in random order.
List<DeviceRequest> Requests(IReadOnlyList<Bin> bins, int items, int maxCount)
{
    var offered = bins.SelectMany(bin => bin.Model.Types.Select(type => type.Type)).Distinct().ToArray();
    return [.. Enumerable.Range(0, items).Select(_ => new DeviceRequest(offered[random.Next(offered.Length)], random.Next(1, maxCount + 1)))];
}

var output = new System.Text.StringBuilder();
output.AppendLine("## Placement quality (plan)");
output.AppendLine();
output.AppendLine($"`bench/plan-quality.sh` (seed {seed}) draws random hosts and random request streams over their types, and compares the");
output.AppendLine("share of requested devices placed by `Packing.Place` (what `mdevkit plan` runs), by first-fit in request order, and,");
output.AppendLine("on small instances, by exhaustive search (the optimum). Two families of hosts, with parents as `mdevkit probe` finds");
output.AppendLine("them on the simulator:");
output.AppendLine();
output.AppendLine("* **mixed drivers**: an M60-like GPU (exclusive: nvidia-11/13/16/19/21, max 16/8/4/2/1), a GVT-g-like pool (4 types,");
output.AppendLine("  costs 3/4/8/16 of 21) and an mbochs-like pool (3 types, costs 1/4/16 of 64), drawn alike;");
output.AppendLine("* **SR-IOV GPUs** (NVIDIA Ampere and vGPU 17+): A40/L40S-like GPUs of 48 GB and 32 virtual functions with Q types of");
output.AppendLine("  1/2/4/8/12/24/48 GB and A types of 1/4/12 GB; three in four hold one framebuffer size at a time (one-size, the");
output.AppendLine("  default), one in four has mixed sizes on (a shared pool of 48 GB, at most one vGPU a virtual function).");
output.AppendLine();
output.AppendLine("| hosts | instances | trials | requested | plan placed | first-fit placed | optimum placed |");
output.AppendLine("|---|---|---:|---:|---:|---:|---:|");
var notes = new List<string>();
Measure("mixed drivers", Parent, smallParents: (2, 4), largeParents: (8, 33));
Measure("SR-IOV GPUs", SriovGpu, smallParents: (2, 4), largeParents: (4, 17));
output.AppendLine();
foreach (var note in notes)
{
    output.AppendLine(note);
}
Console.Write(output);

void Measure(string family, Func<int, Bin> parent, (int From, int To) smallParents, (int From, int To) largeParents)
{
    // Small instances: 2-3 parents, 2-4 request items of 1-4 devices; the optimum is searchable.
    const int smallTrials = 2000;
    long smallRequested = 0, smallPlan = 0, smallFirst = 0, smallOptimum = 0;
    int planOptimal = 0, firstOptimal = 0, planBeatsFirst = 0, planLosesToFirst = 0;
    for (var trial = 0; trial < smallTrials; trial++)
    {
        var bins = Enumerable.Range(0, random.Next(smallParents.From, smallParents.To)).Select(parent).ToList();
        var requests = Requests(bins, random.Next(2, 5), 4);
        var plan = Packing.Placed(Packing.Place(bins, requests));
        var first = Packing.Placed(Packing.FirstFit(bins, requests));
        var optimum = Exhaustive.Optimum(bins, requests);
        smallRequested += requests.Sum(request => request.Count);
        (smallPlan, smallFirst, smallOptimum) = (smallPlan + plan, smallFirst + first, smallOptimum + optimum);
        planOptimal += plan == optimum ? 1 : 0;
        firstOptimal += first == optimum ? 1 : 0;
        planBeatsFirst += plan > first ? 1 : 0;
        planLosesToFirst += plan < first ? 1 : 0;
    }

    // Large instances: many parents, 10-60 request items of 1-8 devices (about 1-2x what the host holds).
    const int largeTrials = 300;
    long largeRequested = 0, largePlan = 0, largeFirst = 0;
    var planTime = new Stopwatch();
    for (var trial = 0; trial < largeTrials; trial++)
    {
        var bins = Enumerable.Range(0, random.Next(largeParents.From, largeParents.To)).Select(parent).ToList();
        var requests = Requests(bins, random.Next(10, 61), 8);
        planTime.Start();
        var plan = Packing.Placed(Packing.Place(bins, requests));
        planTime.Stop();
        largeRequested += requests.Sum(request => request.Count);
        largePlan += plan;
        largeFirst += Packing.Placed(Packing.FirstFit(bins, requests));
    }

    string Share(long placed, long requested) => $"{100.0 * placed / requested:F1} %";
    output.AppendLine($"| {family} | small ({smallParents.From}-{smallParents.To - 1} parents, ≤ 16 devices) | {smallTrials} | {smallRequested} | {Share(smallPlan, smallRequested)} | {Share(smallFirst, smallRequested)} | {Share(smallOptimum, smallRequested)} |");
    output.AppendLine($"| {family} | large ({largeParents.From}-{largeParents.To - 1} parents, ≤ 480 devices) | {largeTrials} | {largeRequested} | {Share(largePlan, largeRequested)} | {Share(largeFirst, largeRequested)} | – |");
    notes.Add($"**{family}**: on the small instances the planner reaches the optimum in {planOptimal} of {smallTrials} ({100.0 * planOptimal / smallTrials:F2} %),");
    notes.Add($"first-fit in {firstOptimal} ({100.0 * firstOptimal / smallTrials:F2} %); the planner places more than first-fit in {planBeatsFirst}, fewer in {planLosesToFirst}");
    notes.Add($"(first-fit is one of its candidates). Relative to the optimum the planner places {100.0 * smallPlan / smallOptimum:F2} % of what can be placed,");
    notes.Add($"first-fit {100.0 * smallFirst / smallOptimum:F2} %. On the large instances the planner places {100.0 * (largePlan - largeFirst) / largeFirst:F1} % more devices than first-fit,");
    notes.Add($"taking {planTime.Elapsed.TotalMilliseconds / largeTrials:F1} ms per plan on average.");
    notes.Add("");
}
