namespace Mdevkit.Simulation.Drivers;

/// <summary>The parent the kernel's sample drivers register: a class device with no bus and no driver.</summary>
internal static class SampleParent
{
    /// <summary><c>sys/devices/virtual/&lt;class&gt;/&lt;class&gt;</c>, so type ids are <c>&lt;class&gt;-&lt;name&gt;</c>.</summary>
    public static ParentBlueprint Blueprint(string className, Func<IMdevDriver> createDriver) => new(
        Name: className,
        DevicePath: $"sys/devices/virtual/{className}/{className}",
        DriverString: className,
        BoundDriverPath: null,
        SubsystemPath: $"sys/class/{className}",
        HasIommuGroup: false,
        CreateDriver: createDriver);
}
