using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Bench.Roundtrip.Native;

// Times mdev create/remove round trips, one syscall per step:
//   Mdevkit.Bench.Roundtrip LABEL PARENT_DIR TYPE COUNT [--plain] [--processes N]
// Each round trip writes a UUID to PARENT_DIR/mdev_supported_types/TYPE/create, then "1" to PARENT_DIR/UUID/remove.
// --plain first lays those paths out as regular files, for a baseline on an ordinary filesystem.
// --processes N runs COUNT round trips in each of N copies of this program at once (default 1: this process alone).
// Prints one Markdown table row: LABEL, processes, round trips, round trips per second (all processes together),
// then create and remove latency (median, p99) over every round trip.
var options = args.Skip(4).ToList();
var plain = options.Remove("--plain");
var processes = 1;
var worker = -1;
if (options.Count == 2 && options[0] is "--processes" or "--worker")
{
    var value = int.Parse(options[1], CultureInfo.InvariantCulture);
    (processes, worker) = options[0] == "--processes" ? (value, worker) : (processes, value);
    options.Clear();
}
if (args.Length < 4 || options.Count != 0 || processes < 1)
{
    Console.Error.WriteLine("usage: Mdevkit.Bench.Roundtrip LABEL PARENT_DIR TYPE COUNT [--plain] [--processes N]");
    return 2;
}
var count = int.Parse(args[3], CultureInfo.InvariantCulture);
if (worker < 0)
{
    var (elapsed, createTicks, removeTicks) = RunWorkers(processes);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {args[0]} | {processes} | {processes * count} | {processes * count / elapsed.TotalSeconds:F0} | {Micros(createTicks, 0.5):F1} | {Micros(createTicks, 0.99):F1} | {Micros(removeTicks, 0.5):F1} | {Micros(removeTicks, 0.99):F1} |"));
    return 0;
}

var parent = args[1];
var create = Path.Join(parent, "mdev_supported_types", args[2], "create");
// Distinct UUIDs, as a management tool creates them, and distinct between workers; the warm-up reuses the
// first ones after they are gone.
var uuids = Enumerable.Range(0, count).Select(i => $"{i:x8}-{worker:x4}-4000-8000-5eed00000000").ToArray();
var removes = uuids.Select(uuid => Path.Join(parent, uuid, "remove")).ToArray();
if (plain)
{
    File.WriteAllText(create, "");
    foreach (var remove in removes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(remove)!);
        File.WriteAllText(remove, "");
    }
}

var createPath = CString(create);
var removePaths = removes.Select(CString).ToArray();
var uuidBytes = uuids.Select(Encoding.ASCII.GetBytes).ToArray();
byte[] one = "1"u8.ToArray();

// Warm-up: the JIT, the page cache and the simulator's own first-time work stay out of the numbers.
for (var i = 0; i < Math.Min(count, 1000); i++)
{
    WriteOnce(createPath, uuidBytes[i]);
    WriteOnce(removePaths[i], one);
}
// All workers start together: each says it is ready and waits for the line that starts them.
Console.WriteLine("ready");
_ = Console.ReadLine();

var output = new StringBuilder();
for (var i = 0; i < count; i++)
{
    var start = Stopwatch.GetTimestamp();
    WriteOnce(createPath, uuidBytes[i]);
    var created = Stopwatch.GetTimestamp();
    WriteOnce(removePaths[i], one);
    output.Append(CultureInfo.InvariantCulture, $"{created - start} {Stopwatch.GetTimestamp() - created}\n");
}
Console.Write(output);
return 0;

// Starts the workers, lets them go at once, and collects every round trip's create and remove ticks.
(TimeSpan Elapsed, long[] CreateTicks, long[] RemoveTicks) RunWorkers(int processes)
{
    var self = Environment.GetCommandLineArgs()[0];
    var (program, prefix) = self.EndsWith(".dll", StringComparison.Ordinal) ? (Environment.ProcessPath!, new[] { self }) : (self, Array.Empty<string>());
    var workers = Enumerable.Range(0, processes).Select(index =>
    {
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var argument in prefix.Concat(args.Take(4)).Concat(plain ? ["--plain"] : []).Concat(["--worker", index.ToString(CultureInfo.InvariantCulture)]))
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start)!;
    }).ToArray();
    foreach (var process in workers)
    {
        if (process.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException("a worker failed before it was ready");
        }
    }
    var total = Stopwatch.StartNew();
    foreach (var process in workers)
    {
        process.StandardInput.WriteLine("go");
    }
    var outputs = workers.Select(process => process.StandardOutput.ReadToEndAsync()).ToArray();
    Task.WaitAll(outputs);
    total.Stop();
    foreach (var process in workers)
    {
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"a worker failed with exit code {process.ExitCode}");
        }
    }
    var samples = outputs.SelectMany(output => output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        .Select(line => line.Split(' ').Select(field => long.Parse(field, CultureInfo.InvariantCulture)).ToArray()).ToArray();
    return (total.Elapsed, [.. samples.Select(sample => sample[0])], [.. samples.Select(sample => sample[1])]);
}

// open, write, close, as `echo UUID > create` does; any failure ends the run, since it would skew the rest.
static unsafe void WriteOnce(byte[] path, byte[] data)
{
    fixed (byte* pathPointer = path)
    fixed (byte* dataPointer = data)
    {
        var fd = Libc.open(pathPointer, Libc.O_WRONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw Failure("open", path);
        }
        var written = Libc.write(fd, dataPointer, data.Length);
        var error = Marshal.GetLastPInvokeError();
        if (Libc.close(fd) < 0 && written == data.Length)
        {
            throw Failure("close", path);
        }
        if (written != data.Length)
        {
            Marshal.SetLastPInvokeError(error);
            throw Failure("write", path);
        }
    }
}

static IOException Failure(string call, byte[] path) =>
    new($"{call} {Encoding.UTF8.GetString(path, 0, path.Length - 1)}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

static byte[] CString(string path) => Encoding.UTF8.GetBytes(path + "\0");

// The q-quantile of the samples, in microseconds (nearest rank).
static double Micros(long[] ticks, double q)
{
    var sorted = ticks.Order().ToArray();
    var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
    return sorted[Math.Max(rank, 0)] * 1e6 / Stopwatch.Frequency;
}
