using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Text.Json;

// Load on mdevkitd, measured from its clients:
//   Mdevkit.Bench.AgentLoad populate ROOT TYPE DEFINED_PER_PARENT RUNNING_PER_PARENT
//     writes DEFINED_PER_PARENT definitions of TYPE on every parent of a simulated host and starts the first
//     RUNNING_PER_PARENT of them through sysfs (before the agent runs, so that it starts on a full host).
//   Mdevkit.Bench.AgentLoad run ROOT SOCKET AGENT_PID TYPE SECONDS DEVICES_PER_SECOND PARENTS_PER_SECOND READERS SUBSCRIBERS CHANGES_PER_SECOND
//     READERS clients ask GET /v1/devices at DEVICES_PER_SECOND in all, two more GET /v1/parents at PARENTS_PER_SECOND,
//     SUBSCRIBERS clients follow /v1/events, and one writer makes and removes a device of TYPE through sysfs
//     CHANGES_PER_SECOND times a second, round the parents. After 3 s of warm-up, SECONDS are measured.
// Prints a Markdown table: requests per second and latency (from sending to the last byte of the answer), event
// delivery latency (from just before the sysfs write to the event read by a subscriber), and the agent's RSS.
const int WarmupSeconds = 3;
var culture = CultureInfo.InvariantCulture;

if (args is ["populate", var populateRoot, var populateType, var definedText, var runningText])
{
    var definedPerParent = int.Parse(definedText, culture);
    var runningPerParent = int.Parse(runningText, culture);
    foreach (var (parent, index) in Parents(populateRoot).Select((parent, index) => (parent, index)))
    {
        var directory = Path.Join(populateRoot, "etc/mdevctl.d", parent);
        Directory.CreateDirectory(directory);
        for (var i = 0; i < definedPerParent; i++)
        {
            var uuid = $"{index:x8}-{i:x4}-4000-8000-10ad00000000";
            File.WriteAllText(Path.Join(directory, uuid), $$"""{"mdev_type":"{{populateType}}","start":"manual","attrs":[]}""" + "\n");
            if (i < runningPerParent)
            {
                File.WriteAllText(CreatePath(populateRoot, parent, populateType), uuid);
            }
        }
    }
    return 0;
}
if (args is not ["run", var root, var socket, var pidText, var type, var secondsText, var devicesRateText, var parentsRateText, var readersText, var subscribersText, var changesText])
{
    Console.Error.WriteLine("usage: Mdevkit.Bench.AgentLoad populate ROOT TYPE DEFINED_PER_PARENT RUNNING_PER_PARENT");
    Console.Error.WriteLine("       Mdevkit.Bench.AgentLoad run ROOT SOCKET AGENT_PID TYPE SECONDS DEVICES_PER_SECOND PARENTS_PER_SECOND READERS SUBSCRIBERS CHANGES_PER_SECOND");
    return 2;
}
var pid = int.Parse(pidText, culture);
var seconds = int.Parse(secondsText, culture);
var devicesRate = double.Parse(devicesRateText, culture);
var parentsRate = double.Parse(parentsRateText, culture);
var readers = int.Parse(readersText, culture);
var subscribers = int.Parse(subscribersText, culture);
var changesRate = double.Parse(changesText, culture);

using var client = new HttpClient(new SocketsHttpHandler
{
    ConnectCallback = async (_, cancellation) =>
    {
        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellation);
        return new NetworkStream(connection, ownsSocket: true);
    },
})
{ BaseAddress = new Uri("http://mdevkitd"), Timeout = Timeout.InfiniteTimeSpan };

using var stop = new CancellationTokenSource();
var measureFrom = Stopwatch.GetTimestamp() + (WarmupSeconds * Stopwatch.Frequency);
var measureTo = measureFrom + (seconds * Stopwatch.Frequency);
bool Measuring(long timestamp) => timestamp >= measureFrom && timestamp < measureTo;

// Every subscriber is listening before the first change.
var written = new ConcurrentDictionary<(Guid Uuid, string Event), long>();
var streams = new List<Stream>();
for (var i = 0; i < subscribers; i++)
{
    var response = await client.GetAsync("/v1/events", HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    streams.Add(await response.Content.ReadAsStreamAsync());
}
var deliveries = streams.Select(stream => Task.Run(async () =>
{
    var latencies = new List<double>();
    var lost = 0;
    try
    {
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(stop.Token))
        {
            var received = Stopwatch.GetTimestamp();
            if (item.EventType == "events-lost")
            {
                lost++;
                continue;
            }
            using var data = JsonDocument.Parse(item.Data);
            if (data.RootElement.TryGetProperty("uuid", out var uuid) && uuid.ValueKind == JsonValueKind.String
                && written.TryGetValue((uuid.GetGuid(), item.EventType), out var sent) && Measuring(sent))
            {
                latencies.Add(Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds);
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
    return (Latencies: latencies, Lost: lost);
})).ToList();

async Task<(List<double> Latencies, int Errors, int Count)> ReadAsync(string path, double rate)
{
    var latencies = new List<double>();
    var errors = 0;
    var count = 0;
    var buffer = new byte[1 << 16];
    var interval = Stopwatch.Frequency / rate;
    var next = (double)Stopwatch.GetTimestamp();
    while (Stopwatch.GetTimestamp() < measureTo)
    {
        next += interval;
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), (long)next);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        while (await body.ReadAsync(buffer) > 0)
        {
        }
        if (Measuring(started))
        {
            count++;
            errors += response.IsSuccessStatusCode ? 0 : 1;
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
    return (latencies, errors, count);
}

var deviceReaders = Enumerable.Range(0, readers).Select(_ => Task.Run(() => ReadAsync("/v1/devices", devicesRate / readers))).ToList();
var parentReaders = Enumerable.Range(0, 2).Select(_ => Task.Run(() => ReadAsync("/v1/parents", parentsRate / 2))).ToList();

// One writer, round the parents: a device made on one, then removed at its next turn.
var changes = Task.Factory.StartNew(() =>
{
    var parents = Parents(root);
    var made = new Guid?[parents.Count];
    var interval = Stopwatch.Frequency / changesRate;
    var next = (double)Stopwatch.GetTimestamp();
    var failures = 0;
    for (var turn = 0; Stopwatch.GetTimestamp() < measureTo; turn++)
    {
        next += interval;
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), (long)next);
        if (wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }
        var index = turn % parents.Count;
        var uuid = made[index] ?? Guid.NewGuid();
        var (path, text, kind) = made[index] is null
            ? (CreatePath(root, parents[index], type), uuid.ToString(), "device-added")
            : (Path.Join(root, "sys/bus/mdev/devices", uuid.ToString(), "remove"), "1", "device-removed");
        written[(uuid, kind)] = Stopwatch.GetTimestamp();
        try
        {
            File.WriteAllText(path, text);
            made[index] = made[index] is null ? uuid : null;
        }
        catch (IOException)
        {
            failures++;
        }
    }
    return failures;
}, TaskCreationOptions.LongRunning);

var rss = new List<long>();
while (Stopwatch.GetTimestamp() < measureTo)
{
    await Task.Delay(500);
    if (Measuring(Stopwatch.GetTimestamp()) && File.ReadLines($"/proc/{pid}/status").FirstOrDefault(line => line.StartsWith("VmRSS:", StringComparison.Ordinal)) is { } line)
    {
        rss.Add(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], culture));
    }
}
var changeFailures = await changes;
var devicesResults = await Task.WhenAll(deviceReaders);
var parentsResults = await Task.WhenAll(parentReaders);
// The last events are on their way: a moment for them, then the streams end.
await Task.Delay(1000);
stop.Cancel();
foreach (var stream in streams)
{
    stream.Dispose();
}
var delivered = await Task.WhenAll(deliveries);
var changesMeasured = written.Values.Count(Measuring);

Console.WriteLine($"| measure | rate (/s) | count | p50 (ms) | p99 (ms) | max (ms) | errors |");
Console.WriteLine("|---|---|---|---|---|---|---|");
Row("GET /v1/devices", devicesResults);
Row("GET /v1/parents", parentsResults);
var events = delivered.SelectMany(result => result.Latencies).ToList();
Console.WriteLine(string.Create(culture,
    $"| event delivery ({subscribers} subscribers) | {events.Count / (double)seconds:F0} | {events.Count} of {changesMeasured * subscribers} | {Percentile(events, 0.5):F1} | {Percentile(events, 0.99):F1} | {Percentile(events, 1):F1} | {delivered.Sum(result => result.Lost)} events-lost, {changeFailures} writes refused |"));
Console.WriteLine(string.Create(culture,
    $"| agent RSS | | {rss.Count} samples | {Percentile([.. rss.Select(kb => kb / 1024.0)], 0.5):F1} MiB | | {rss.DefaultIfEmpty().Max() / 1024.0:F1} MiB | |"));
return 0;

void Row(string what, (List<double> Latencies, int Errors, int Count)[] results)
{
    var latencies = results.SelectMany(result => result.Latencies).ToList();
    Console.WriteLine(string.Create(culture,
        $"| {what} | {latencies.Count / (double)seconds:F0} | {latencies.Count} | {Percentile(latencies, 0.5):F1} | {Percentile(latencies, 0.99):F1} | {Percentile(latencies, 1):F1} | {results.Sum(result => result.Errors)} |"));
}

static double Percentile(List<double> values, double share)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }
    values.Sort();
    return values[Math.Max(0, (int)Math.Ceiling(share * values.Count) - 1)];
}

static List<string> Parents(string root) =>
    [.. Directory.GetFileSystemEntries(Path.Join(root, "sys/class/mdev_bus")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

static string CreatePath(string root, string parent, string type) => Path.Join(root, "sys/class/mdev_bus", parent, "mdev_supported_types", type, "create");
