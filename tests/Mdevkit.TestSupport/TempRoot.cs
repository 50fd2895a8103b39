namespace Mdevkit.TestSupport;

/// <summary>A root directory of real files for one test, named after the test class so a leaked one is easy to spot.</summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot(string owner)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"#{owner}_{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Join(string relative) => System.IO.Path.Join(Path, relative);

    /// <summary>Writes a file, making its directories.</summary>
    public void File(string relative, string text)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Join(relative))!);
        System.IO.File.WriteAllText(Join(relative), text);
    }

    /// <summary>Makes a symbolic link with the given (relative) target text, as sysfs has them.</summary>
    public void Link(string relative, string target)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Join(relative))!);
        System.IO.File.CreateSymbolicLink(Join(relative), target);
    }

    /// <summary>Lays out a parent under sys/devices with its mdev_bus link, the way the kernel does.</summary>
    public void Parent(string devicePath, string name)
    {
        Directory.CreateDirectory(Join(devicePath));
        Link($"sys/class/mdev_bus/{name}", "../../" + devicePath["sys/".Length..]);
    }

    public void Type(string devicePath, string id, int available, string api, string? name, string? description)
    {
        var type = $"{devicePath}/mdev_supported_types/{id}";
        File($"{type}/available_instances", $"{available}\n");
        File($"{type}/device_api", api + "\n");
        File($"{type}/create", "");
        if (name is not null)
        {
            File($"{type}/name", name + "\n");
        }
        if (description is not null)
        {
            File($"{type}/description", description);
        }
        Directory.CreateDirectory(Join($"{type}/devices"));
    }

    /// <summary>An active device with the kernel's relative links.</summary>
    public void Device(string devicePath, string uuid, string type)
    {
        File($"{devicePath}/{uuid}/remove", "");
        Link($"{devicePath}/{uuid}/mdev_type", $"../mdev_supported_types/{type}");
        Link($"sys/bus/mdev/devices/{uuid}", string.Concat(Enumerable.Repeat("../", 3)) + devicePath["sys/".Length..] + "/" + uuid);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
