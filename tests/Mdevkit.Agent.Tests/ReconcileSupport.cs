using System.Text.Json;
using Mdevkit.Management;

namespace Mdevkit.Agent.Tests;

/// <summary>What the reconcile tests do to a root and look at in it.</summary>
internal static class ReconcileSupport
{
    /// <summary>Writes a root's declaration as an editor that saves by rename does.</summary>
    public static void Declare(string root, string json)
    {
        var path = Path.Join(root, MdevkitPaths.Declaration);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".new", json);
        File.Move(path + ".new", path, overwrite: true);
    }

    /// <summary>The UUIDs the ownership record names.</summary>
    public static List<Guid> OwnedUuids(string root)
    {
        var path = Path.Join(root, MdevkitPaths.OwnedDevices);
        return File.Exists(path)
            ? [.. JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("devices").EnumerateArray().Select(device => device.GetProperty("uuid").GetGuid())]
            : [];
    }

    /// <summary>Waits up to a minute for <paramref name="condition"/>, then fails with <paramref name="describe"/>'s words.</summary>
    public static Task WaitForAsync(Func<bool> condition, Func<string> describe) => WaitForAsync(() => Task.FromResult(condition()), describe);

    public static async Task WaitForAsync(Func<Task<bool>> condition, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out; {describe?.Invoke()}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
