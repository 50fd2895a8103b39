using System.Reflection;

namespace Mdevkit.Architecture.Tests;

/// <summary>The layering rule: which of our assemblies each one may reference.</summary>
public sealed class LayeringTests
{
    private static readonly Dictionary<string, string[]> s_allowed = new()
    {
        ["Mdevkit.Sysfs"] = [],
        ["Mdevkit.Management"] = ["Mdevkit.Sysfs"],
        ["Mdevkit.Simulation"] = ["Mdevkit.Sysfs"],
        ["Mdevkit.Fuse"] = ["Mdevkit.Simulation", "Mdevkit.Sysfs"],
        // The simulator's host: a simulated kernel served through FUSE beside mdevctl's real directories.
        ["Mdevkit.SimHost"] = ["Mdevkit.Management", "Mdevkit.Sysfs", "Mdevkit.Simulation", "Mdevkit.Fuse"],
        // The agent runs on any root through Management; it never simulates.
        ["mdevkitd"] = ["Mdevkit.Management", "Mdevkit.Sysfs"],
        // The DRA kubelet plugin, like the agent, works on any root through Management.
        ["mdevkit-dra"] = ["Mdevkit.Management", "Mdevkit.Sysfs"],
        ["mdevkit"] = ["Mdevkit.Management", "Mdevkit.Sysfs", "Mdevkit.Simulation", "Mdevkit.Fuse", "Mdevkit.SimHost"],
    };

    public static TheoryData<string> Assemblies => [.. OurAssemblies().Select(assembly => assembly.GetName().Name!)];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void References_OnlyLowerLayers(string name)
    {
        var assembly = OurAssemblies().Single(candidate => candidate.GetName().Name == name);
        Assert.True(s_allowed.TryGetValue(name, out var allowed), $"{name} has no place in the layering table");

        var ours = assembly.GetReferencedAssemblies().Select(reference => reference.Name!).Where(IsOurs);

        Assert.All(ours, reference => Assert.Contains(reference, allowed));
    }

    [Fact]
    public void EverySourceProject_IsChecked()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "mdevkit.slnx")))
        {
            directory = Path.GetDirectoryName(directory) ?? throw new InvalidOperationException("mdevkit.slnx not found above the test output");
        }
        var projects = Directory.GetDirectories(Path.Combine(directory, "src")).Select(Path.GetFileName);
        var checkedNames = OurAssemblies().Select(assembly => assembly.GetName().Name switch
        {
            "mdevkit" => "Mdevkit.Cli",
            "mdevkitd" => "Mdevkit.Agent",
            "mdevkit-dra" => "Mdevkit.Kubernetes",
            var name => name,
        });

        Assert.Equal(projects.Order(StringComparer.Ordinal), checkedNames.Order(StringComparer.Ordinal));
    }

    // One exception type leaves Management, for the command line (and any other host) to render in one place.
    [Fact]
    public void ManagementsExceptions_AreAllMdevctlExceptions()
    {
        var management = typeof(Mdevkit.Management.MdevctlException).Assembly;

        var others = management.GetExportedTypes()
            .Where(type => typeof(Exception).IsAssignableFrom(type) && !typeof(Mdevkit.Management.MdevctlException).IsAssignableFrom(type));

        Assert.Empty(others);
    }

    private static bool IsOurs(string name) => name is "mdevkit" or "mdevkitd" or "mdevkit-dra" || name.StartsWith("Mdevkit.", StringComparison.Ordinal);

    private static IEnumerable<Assembly> OurAssemblies() =>
        Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => IsOurs(name!) && !name!.EndsWith(".Tests", StringComparison.Ordinal))
            .Select(name => Assembly.Load(name!));
}
