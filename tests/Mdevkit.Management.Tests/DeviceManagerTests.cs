using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>define, undefine, modify, start and stop on a fixture root, checked through the files they write.</summary>
public sealed class DeviceManagerTests : IDisposable
{
    private const string P0 = "0000:00:02.0";
    private const string P1 = "0000:00:03.0";
    private const string Gpu0 = $"sys/devices/pci0000:00/{P0}";
    private const string Gpu1 = $"sys/devices/pci0000:00/{P1}";
    private const string Type = "i915-GVTg_V5_4";
    private static readonly Guid s_u0 = Guid.Parse("976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9");
    private readonly TempRoot _root = new(nameof(DeviceManagerTests));
    private readonly DeviceManager _manager;
    private readonly List<string> _warnings = [];

    public DeviceManagerTests()
    {
        _root.Parent(Gpu0, P0);
        _root.Parent(Gpu1, P1);
        _root.Type(Gpu0, Type, 2, "vfio-pci", null, null);
        _root.Type(Gpu1, Type, 0, "vfio-pci", null, null);
        var environment = new MdevctlEnvironment(_root.Path, _warnings.Add);
        _manager = new DeviceManager(environment, new DefinitionStore(environment), new Callouts(environment, TextWriter.Null));
    }

    private string StoredText(string parent, Guid uuid) => File.ReadAllText(_root.Join($"etc/mdevctl.d/{parent}/{uuid}"));

    private static string Stored(string type, bool auto, string attrs = "[]") =>
        $"{{\n  \"mdev_type\": \"{type}\",\n  \"start\": \"{(auto ? "auto" : "manual")}\",\n  \"attrs\": {attrs}\n}}";

    [Fact]
    public void Undefine_UnreadableDefinition_IsRefusedWithItsPath_AndForceRemovesIt()
    {
        var path = _root.Join($"etc/mdevctl.d/{P0}/{s_u0}");
        _root.File($"etc/mdevctl.d/{P0}/{s_u0}", """{"mdev_type":"\ud800","start":"manual"}""");

        var refused = Assert.Throws<MdevctlException>(() => _manager.Undefine(s_u0, null));
        var keptAfterRefusal = File.Exists(path);
        _manager.Undefine(s_u0, null, force: true);

        Assert.Equal($"{path}: unexpected end of hex escape at line 1 column 21 (undefine --force removes it without callout scripts)", refused.Message);
        Assert.True(keptAfterRefusal);
        Assert.False(File.Exists(path));
        Assert.Equal([$"Removing unreadable definition {path}: unexpected end of hex escape at line 1 column 21; callout scripts not run"], _warnings);
    }

    [Theory]
    [InlineData(4294967295u, false)]
    [InlineData(2147483648u, true)]
    public void Modify_IndexBeyondInt_IsInvalidIndex_AndWritesNothing(uint index, bool delete)
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, AutoStart: false));
        var before = StoredText(P0, s_u0);

        var e = Assert.Throws<MdevctlException>(() => _manager.Modify(delete
            ? new ModifyRequest(s_u0, DeleteAttribute: true, Index: index)
            : new ModifyRequest(s_u0, AddAttribute: "a", Value: "b", Index: index)));

        Assert.Equal($"Attribute index {index} is invalid\nDevice {s_u0} has no attributes", e.Message);
        Assert.Equal(before, StoredText(P0, s_u0));
    }

    [Theory]
    [InlineData("mt\u0001", "i915", "Invalid parent device name 'mt\\u{1}': it contains a control character")]
    [InlineData(P0, "a\tb", "Invalid mdev type 'a\\u{9}b': it contains a control character")]
    [InlineData(P0, "x\uFFFD", "Invalid mdev type 'x\uFFFD': it is not valid UTF-8")]
    public void Define_NameWithControlCharacterOrNotUtf8_IsRefusedAndWritesNothing(string parent, string type, string message)
    {
        var e = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, parent, type, AutoStart: false)));

        Assert.Equal(message, e.Message);
        Assert.False(Directory.Exists(_root.Join("etc/mdevctl.d")));
    }

    [Fact]
    public void Define_JsonTypeWithNewline_IsRefused()
    {
        var e = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, P0, null, false, ("f.json", """{"mdev_type":"a\nb","start":"manual"}"""))));

        Assert.Equal("Invalid mdev type 'a\\u{a}b': it contains a control character", e.Message);
        Assert.False(Directory.Exists(_root.Join("etc/mdevctl.d")));
    }

    [Fact]
    public void Define_NoUuid_GeneratesOneAndWritesDefinition()
    {
        var uuid = _manager.Define(new DefineRequest(null, P1, Type, AutoStart: true));

        Assert.Equal(Stored(Type, auto: true), StoredText(P1, uuid));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Define_Uuid_WritesStartMode(bool auto)
    {
        _manager.Define(new DefineRequest(s_u0, P1, Type, auto));

        Assert.Equal(Stored(Type, auto), StoredText(P1, s_u0));
    }

    [Fact]
    public void Define_RunningDevice_TakesParentAndTypeFromSysfs()
    {
        _root.Device(Gpu0, s_u0.ToString(), Type);

        _manager.Define(new DefineRequest(s_u0, null, null, false));

        Assert.Equal(Stored(Type, false), StoredText(P0, s_u0));
    }

    [Theory]
    [InlineData(P1, null)] // running elsewhere, defined on another parent
    [InlineData(P0, "different_type")]
    public void Define_RunningDeviceWithOtherParentOrType_IsAllowed(string parent, string? type)
    {
        _root.Device(Gpu0, s_u0.ToString(), Type);

        _manager.Define(new DefineRequest(s_u0, parent, type, false));

        Assert.Equal(Stored(type ?? Type, false), StoredText(parent, s_u0));
    }

    [Theory]
    [InlineData(null, null, "No parent specified")]
    [InlineData(null, Type, "No parent specified")]
    [InlineData(P0, null, "No type specified")]
    public void Define_Insufficient_Fails(string? parent, string? type, string message)
    {
        Assert.Equal(message, Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, parent, type, false))).Message);
        Assert.False(Directory.Exists(_root.Join("etc/mdevctl.d")));
    }

    [Fact]
    public void Define_Twice_FailsAndKeepsFirst()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, true));

        var error = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, P0, "other", false)));

        Assert.Equal($"Device {s_u0} on {P0} already defined", error.Message);
        Assert.Equal(Stored(Type, true), StoredText(P0, s_u0));
    }

    [Fact]
    public void Define_Json_StoresItsConfiguration()
    {
        var json = """{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[{"assign_adapter":"5"}]}""";

        _manager.Define(new DefineRequest(s_u0, "matrix", null, false, ("/dev/stdin", json)));

        Assert.Equal(Stored("vfio_ap-passthrough", true, "[\n    {\n      \"assign_adapter\": \"5\"\n    }\n  ]"), StoredText("matrix", s_u0));
    }

    [Theory]
    [InlineData(null, null, "Parent device required to define device via \"/dev/stdin\"")]
    [InlineData(P0, Type, "Device type cannot be specified separately from \"/dev/stdin\"")]
    public void Define_JsonMisused_Fails(string? parent, string? type, string message)
    {
        var error = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, parent, type, false, ("/dev/stdin", """{"mdev_type":"t","start":"auto"}"""))));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../../tmp")]
    [InlineData("a/b")]
    public void Define_HostileParent_IsRefusedWithoutWriting(string parent)
    {
        var error = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_u0, parent, Type, false)));

        Assert.Equal($"Invalid parent device name '{parent}'", error.Message);
        Assert.False(Directory.Exists(_root.Join("etc")));
    }

    [Fact]
    public void Undefine_RemovesEveryParentsDefinitionUnlessParentGiven()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));
        _manager.Define(new DefineRequest(s_u0, P1, Type, false));

        _manager.Undefine(s_u0, P1);
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{P0}/{s_u0}")));
        _manager.Undefine(s_u0, null);

        Assert.False(File.Exists(_root.Join($"etc/mdevctl.d/{P0}/{s_u0}")));
        Assert.Equal("No devices match the specified uuid", Assert.Throws<MdevctlException>(() => _manager.Undefine(s_u0, null)).Message);
    }

    [Fact]
    public void Modify_AutoManualTypeAndAttributes()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));

        _manager.Modify(new ModifyRequest(s_u0, Auto: true, Type: "changed-mdev-type"));
        _manager.Modify(new ModifyRequest(s_u0, AddAttribute: "b", Value: "2"));
        _manager.Modify(new ModifyRequest(s_u0, AddAttribute: "a", Value: "1", Index: 0));
        _manager.Modify(new ModifyRequest(s_u0, AddAttribute: "c", Value: "3"));
        _manager.Modify(new ModifyRequest(s_u0, DeleteAttribute: true, Index: 1));
        _manager.Modify(new ModifyRequest(s_u0, DeleteAttribute: true));

        Assert.Equal(Stored("changed-mdev-type", true, "[\n    {\n      \"a\": \"1\"\n    }\n  ]"), StoredText(P0, s_u0));
    }

    [Fact]
    public void Modify_BadIndex_ShowsAttributes()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));
        var noAttributes = Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, DeleteAttribute: true, Index: 0)));
        _manager.Modify(new ModifyRequest(s_u0, AddAttribute: "a", Value: "1"));

        var withAttributes = Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, AddAttribute: "x", Value: "y", Index: 5)));

        Assert.Equal($"Attribute index 0 is invalid\nDevice {s_u0} has no attributes", noAttributes.Message);
        Assert.Equal("Attribute index 5 is invalid\n  Attrs:\n    @{0}: {\"a\":\"1\"}\n", withAttributes.Message);
    }

    [Fact]
    public void Modify_Errors_MatchMdevctl()
    {
        Assert.Equal($"Mediated device {s_u0} is not defined", Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, Auto: true))).Message);
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));
        _manager.Define(new DefineRequest(s_u0, P1, Type, false));
        Assert.Equal($"Multiple definitions found for {s_u0}, specify a parent", Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, Auto: true))).Message);
        Assert.Equal("'auto' and 'manual' are mutually exclusive", Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, P0, Auto: true, Manual: true))).Message);
        Assert.Equal("No attribute value provided", Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_u0, P0, AddAttribute: "a"))).Message);
    }

    [Fact]
    public void Start_Transient_WritesUuidToCreate()
    {
        _manager.Start(new StartRequest(s_u0, P0, Type));

        Assert.Equal(s_u0.ToString(), File.ReadAllText(_root.Join($"{Gpu0}/mdev_supported_types/{Type}/create")));
    }

    [Fact]
    public void Start_Defined_UsesDefinition()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));

        _manager.Start(new StartRequest(s_u0, null, null));

        Assert.Equal(s_u0.ToString(), File.ReadAllText(_root.Join($"{Gpu0}/mdev_supported_types/{Type}/create")));
    }

    [Theory]
    [InlineData(null, Type, "can't provide type without parent")]
    [InlineData(P0, null, "Device is insufficiently specified")]
    [InlineData("0000:00:09.0", Type, "Unable to find parent device '0000:00:09.0'")]
    [InlineData("0000:00:02.0X", Type, "Unable to find parent device '0000:00:02.0X'")]
    [InlineData(P1, Type, $"No available instances of {Type} on {P1}")]
    [InlineData(P0, "i915-GVTg_V5_1", $"Parent {P0} does not support mdev type i915-GVTg_V5_1")]
    public void Start_Refused_ExplainsLikeMdevctl(string? parent, string? type, string message)
    {
        Assert.Equal(message, Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, parent, type))).Message);
    }

    [Fact]
    public void Start_ParentCaseMismatch_SuggestsTheRealName()
    {
        _root.Parent("sys/devices/css0/0.0.26ab", "0.0.26ab");

        var error = Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, "0.0.26AB", "vfio_ccw-io")));

        Assert.Equal("Unable to find parent device '0.0.26AB'. Did you mean '0.0.26ab'?", error.Message);
    }

    [Fact]
    public void Start_ParentWithoutTypes_IsNotRegistered()
    {
        _root.Parent("sys/devices/css0/0.0.26ab", "0.0.26ab");

        var error = Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, "0.0.26ab", "vfio_ccw-io")));

        Assert.Equal("Parent 0.0.26ab is not currently registered for mdev support", error.Message);
    }

    [Fact]
    public void Start_AlreadyRunning_SaysHow()
    {
        _root.Device(Gpu0, s_u0.ToString(), Type);

        Assert.Equal("Device already exists", Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, P0, Type))).Message);
        Assert.Equal("Device exists under different parent", Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, P1, Type))).Message);
        Assert.Equal("Device exists with different type", Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, P0, "other"))).Message);
    }

    [Fact]
    public void Start_DefinedWithOtherType_Refuses()
    {
        _manager.Define(new DefineRequest(s_u0, P0, Type, false));

        var error = Assert.Throws<MdevctlException>(() => _manager.Start(new StartRequest(s_u0, null, "other")));

        Assert.Equal($"Device {s_u0} already exists on parent {P0} with type {Type}", error.Message);
    }

    [Fact]
    public void Stop_WritesOneToRemove_AndExplainsAMissingDevice()
    {
        _root.Device(Gpu0, s_u0.ToString(), Type);

        _manager.Stop(s_u0);
        var missing = Assert.Throws<MdevctlException>(() => _manager.Stop(Guid.Parse("59e8b599-afdd-4766-a59e-415ef4f5a492")));

        Assert.Equal("1", File.ReadAllText(_root.Join($"{Gpu0}/{s_u0}/remove")));
        Assert.Equal("Error: Error removing device 59e8b599-afdd-4766-a59e-415ef4f5a492\n\nCaused by:\n    No such file or directory (os error 2)\n", missing.Render());
    }

    public void Dispose() => _root.Dispose();
}
