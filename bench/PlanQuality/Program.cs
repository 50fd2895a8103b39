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

// A request stream: items of a random offered type, each 1..maxCount devices, in random order.
List<DeviceRequest> Requests(IReadOnlyList<Bin> bins, int items, int maxCount)
{
    var offered = bins.SelectMany(bin => bin.Model.Types.Select(type => type.Type)).Distinct().ToArray();
    return [.. Enumerable.Range(0, items).Select(_ => new DeviceRequest(offered[random.Next(offered.Length)], random.Next(1, maxCount + 1)))];
}

var output = new System.Text.StringBuilder();
output.AppendLine("## Placement quality (plan)");
output.AppendLine();
output.AppendLine($"`bench/plan-quality.sh` (seed {seed}) draws random hosts of three parent kinds, as `mdevkit probe` finds them on the");
output.AppendLine("simulator: an M60-like GPU (exclusive: nvidia-11/13/16/19/21, max 16/8/4/2/1), a GVT-g-like pool (4 types,");
output.AppendLine("costs 3/4/8/16 of 21) and an mbochs-like pool (3 types, costs 1/4/16 of 64), and random request streams over");
output.AppendLine("their types. It compares the share of requested devices placed by `Packing.Place` (what `mdevkit plan` runs),");
output.AppendLine("by first-fit in request order, and, on small instances, by exhaustive search (the optimum).");
output.AppendLine();

// Small instances: 2-3 parents, 2-4 request items of 1-4 devices; the optimum is searchable.
const int smallTrials = 2000;
long smallRequested = 0, smallPlan = 0, smallFirst = 0, smallOptimum = 0;
int planOptimal = 0, firstOptimal = 0, planBeatsFirst = 0, planLosesToFirst = 0;
for (var trial = 0; trial < smallTrials; trial++)
{
    var bins = Enumerable.Range(0, random.Next(2, 4)).Select(Parent).ToList();
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

// Large instances: 8-32 parents, 10-60 request items of 1-8 devices (about 1-2x what the host holds).
const int largeTrials = 300;
long largeRequested = 0, largePlan = 0, largeFirst = 0;
var planTime = new Stopwatch();
for (var trial = 0; trial < largeTrials; trial++)
{
    var bins = Enumerable.Range(0, random.Next(8, 33)).Select(Parent).ToList();
    var requests = Requests(bins, random.Next(10, 61), 8);
    planTime.Start();
    var plan = Packing.Placed(Packing.Place(bins, requests));
    planTime.Stop();
    largeRequested += requests.Sum(request => request.Count);
    largePlan += plan;
    largeFirst += Packing.Placed(Packing.FirstFit(bins, requests));
}

string Share(long placed, long requested) => $"{100.0 * placed / requested:F1} %";
output.AppendLine("| instances | trials | requested | plan placed | first-fit placed | optimum placed |");
output.AppendLine("|---|---:|---:|---:|---:|---:|");
output.AppendLine($"| small (2-3 parents, ≤ 16 devices) | {smallTrials} | {smallRequested} | {Share(smallPlan, smallRequested)} | {Share(smallFirst, smallRequested)} | {Share(smallOptimum, smallRequested)} |");
output.AppendLine($"| large (8-32 parents, ≤ 480 devices) | {largeTrials} | {largeRequested} | {Share(largePlan, largeRequested)} | {Share(largeFirst, largeRequested)} | – |");
output.AppendLine();
output.AppendLine($"On the small instances the planner reaches the optimum in {planOptimal} of {smallTrials} ({100.0 * planOptimal / smallTrials:F2} %),");
output.AppendLine($"first-fit in {firstOptimal} ({100.0 * firstOptimal / smallTrials:F2} %); the planner places more than first-fit in {planBeatsFirst}, fewer in {planLosesToFirst}");
output.AppendLine($"(first-fit is one of its candidates). Relative to the optimum the planner places {100.0 * smallPlan / smallOptimum:F2} % of what can be placed,");
output.AppendLine($"first-fit {100.0 * smallFirst / smallOptimum:F2} %. On the large instances the planner places {100.0 * (largePlan - largeFirst) / largeFirst:F1} % more devices than first-fit,");
output.AppendLine($"taking {planTime.Elapsed.TotalMilliseconds / largeTrials:F1} ms per plan on average.");
Console.Write(output);
