using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Bench.Roundtrip.Native;

// Times mdev create/remove round trips from one process, one syscall per step:
//   Mdevkit.Bench.Roundtrip LABEL PARENT_DIR TYPE COUNT [--plain]
// Each round trip writes a UUID to PARENT_DIR/mdev_supported_types/TYPE/create, then "1" to PARENT_DIR/UUID/remove.
// --plain first lays those paths out as regular files, for a baseline on an ordinary filesystem.
// Prints one Markdown table row: LABEL, round trips per second, then create and remove latency (median, p99).
if (args.Length is < 4 or > 5 || (args.Length == 5 && args[4] != "--plain"))
{
    Console.Error.WriteLine("usage: Mdevkit.Bench.Roundtrip LABEL PARENT_DIR TYPE COUNT [--plain]");
    return 2;
}
var label = args[0];
var parent = args[1];
var count = int.Parse(args[3], CultureInfo.InvariantCulture);
var create = Path.Join(parent, "mdev_supported_types", args[2], "create");
// Distinct UUIDs, as a management tool creates them; the warm-up reuses the first ones after they are gone.
var uuids = Enumerable.Range(0, count).Select(i => $"{i:x8}-0000-4000-8000-5eed00000000").ToArray();
var removes = uuids.Select(uuid => Path.Join(parent, uuid, "remove")).ToArray();
if (args.Length == 5)
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

var createTicks = new long[count];
var removeTicks = new long[count];
var total = Stopwatch.StartNew();
for (var i = 0; i < count; i++)
{
    var start = Stopwatch.GetTimestamp();
    WriteOnce(createPath, uuidBytes[i]);
    var created = Stopwatch.GetTimestamp();
    WriteOnce(removePaths[i], one);
    createTicks[i] = created - start;
    removeTicks[i] = Stopwatch.GetTimestamp() - created;
}
total.Stop();

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {label} | {count} | {count / total.Elapsed.TotalSeconds:F0} | {Micros(createTicks, 0.5):F1} | {Micros(createTicks, 0.99):F1} | {Micros(removeTicks, 0.5):F1} | {Micros(removeTicks, 0.99):F1} |"));
return 0;

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
