namespace Mdevkit.Management.Libvirt;

/// <summary>
/// What libvirt's node-device driver does for <c>nodedev-define</c> and <c>nodedev-create</c>: find the parent's
/// address from its node-device name, turn the XML into mdevctl's JSON, and define (or, for a device already
/// defined on that parent, replace the definition) or start a transient device.
/// </summary>
public sealed class NodeDeviceChanges(NodeDevices nodeDevices, DeviceManager manager, DefinitionStore definitions)
{
    /// <summary>Makes or replaces a persistent definition; returns the device's node-device name.</summary>
    /// <param name="device">The parsed XML.</param>
    /// <param name="source">Where it came from, for messages.</param>
    /// <exception cref="NodeDeviceException">The parent is not a node device.</exception>
    /// <exception cref="MdevctlException">mdevctl's refusal.</exception>
    public string Define(MdevDeviceXml device, string source)
    {
        var parent = nodeDevices.ParentAddress(device.Parent);
        var json = (source, device.Config.ToCompactJson());
        var uuid = device.Uuid;
        if (uuid is { } known && definitions.Exists(parent, known))
        {
            manager.Modify(new ModifyRequest(known, Parent: parent, Json: json, Defined: true));
        }
        else
        {
            uuid = manager.Define(new DefineRequest(uuid, parent, Type: null, AutoStart: false, Json: json));
        }
        return NodeDeviceNames.ForMdev(uuid.Value, parent);
    }

    /// <summary>Starts a transient device; returns its node-device name.</summary>
    /// <param name="device">The parsed XML.</param>
    /// <param name="source">Where it came from, for messages.</param>
    /// <exception cref="NodeDeviceException">The parent is not a node device.</exception>
    /// <exception cref="MdevctlException">mdevctl's refusal, e.g. no instances left.</exception>
    public string Create(MdevDeviceXml device, string source)
    {
        var parent = nodeDevices.ParentAddress(device.Parent);
        var uuid = manager.Start(new StartRequest(device.Uuid, parent, Type: null, Json: (source, device.Config.ToCompactJson())));
        return NodeDeviceNames.ForMdev(uuid, parent);
    }
}
