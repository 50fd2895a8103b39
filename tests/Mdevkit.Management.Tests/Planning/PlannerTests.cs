using Mdevkit.Management.Planning;
using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests.Planning;

/// <summary>Requests as typed, and groups as stored files.</summary>
public sealed class PlannerTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(PlannerTests));

    [Fact]
    public void ParseRequest_CountsAndBareTypes_InOrder()
    {
        Assert.Equal([new DeviceRequest("nvidia-12", 4), new DeviceRequest("nvidia-15", 2), new DeviceRequest("mtty-1", 1)],
            Planner.ParseRequest("4x nvidia-12, 2x nvidia-15,mtty-1"));
    }

    [Theory]
    [InlineData("0x nvidia-12")]
    [InlineData("4 nvidia-12")]
    [InlineData(" , ")]
    public void ParseRequest_Malformed_Throws(string text) =>
        Assert.Throws<MdevctlException>(() => Planner.ParseRequest(text));

    [Fact]
    public void ParseRequestJson_ArrayOfTypeAndCount()
    {
        Assert.Equal([new DeviceRequest("mdpy-vga", 2)], Planner.ParseRequestJson("""[{"type": "mdpy-vga", "count": 2}]""", "r.json"));
        Assert.Throws<InvalidInputException>(() => Planner.ParseRequestJson("""[{"type": "mdpy-vga", "count": 0}]""", "r.json"));
    }

    [Theory]
    [InlineData("{\"x\":\n", "EOF while parsing a value at line 2 column 0")]
    [InlineData("[1,]", "trailing comma at line 1 column 4")]
    [InlineData("[{\"type\": 5, \"count\": 1}]", "the value at $[0].type does not fit at line 1 column 11")]
    [InlineData("{}", "the value at $ does not fit at line 1 column 1")]
    [InlineData("null", "null at line 1")]
    [InlineData("[]", "expected a non-empty array of {\"type\", \"count\"} with positive counts")]
    public void ParseRequestJson_NotARequest_SaysWhereInWords(string text, string problem)
    {
        var error = Assert.Throws<InvalidInputException>(() => Planner.ParseRequestJson(text, "r.json"));

        Assert.Equal($"\"r.json\" is not a request: {problem}", error.Message);
    }

    [Fact]
    public void PlanAndStoredModel_OfTheWrongShape_SayWhereInWords()
    {
        var models = new CapacityStore(new MdevctlEnvironment(_root.Path));
        _root.File("var/lib/mdevkit/capacity/mdpy.json", "[1, 2]");

        var plan = Assert.Throws<InvalidInputException>(() => Plan.Parse("[1, 2]", "p.json"));
        var model = Assert.Throws<MdevctlException>(() => models.TryLoad("mdpy"));

        Assert.Equal("\"p.json\" is not a plan: the value at $ does not fit at line 1 column 1", plan.Message);
        Assert.Equal($"\"{_root.Join("var/lib/mdevkit/capacity/mdpy.json")}\" is not a capacity model: the value at $ does not fit at line 1 column 1", model.Message);
    }

    [Fact]
    public void Groups_AddRemoveList_OneUuidALineAndGoneWithTheLastMember()
    {
        var groups = new GroupStore(new MdevctlEnvironment(_root.Path));
        Guid[] uuids = [Guid.Parse("11111111-1111-1111-1111-111111111111"), Guid.Parse("22222222-2222-2222-2222-222222222222")];
        foreach (var uuid in uuids)
        {
            _root.File($"etc/mdevctl.d/mtty/{uuid:D}", """{"mdev_type":"mtty-1","start":"manual","attrs":[]}""");
        }

        groups.Add("vm1", [uuids[0], uuids[1], uuids[0]]);
        var text = File.ReadAllText(_root.Join("etc/mdevkit/groups/vm1"));
        groups.Remove("vm1", [uuids[0]]);
        var afterOne = groups.Members("vm1");
        var notMember = Assert.Throws<MdevctlException>(() => groups.Remove("vm1", [uuids[0]]));
        groups.Remove("vm1", [uuids[1]]);

        Assert.Equal("11111111-1111-1111-1111-111111111111\n22222222-2222-2222-2222-222222222222\n", text);
        Assert.Equal([uuids[1]], afterOne);
        Assert.Equal("11111111-1111-1111-1111-111111111111 is not a member of group vm1", notMember.Message);
        Assert.Empty(groups.Names());
        Assert.Throws<MdevctlException>(() => groups.Add("../x", uuids));
    }

    [Fact]
    public void Groups_AddUndefined_IsRefusedAndWritesNothing()
    {
        var groups = new GroupStore(new MdevctlEnvironment(_root.Path));
        _root.File("etc/mdevctl.d/mtty/11111111-1111-1111-1111-111111111111", """{"mdev_type":"mtty-1","start":"manual","attrs":[]}""");

        var e = Assert.Throws<MdevctlException>(() => groups.Add("vm1", [Guid.Parse("11111111-1111-1111-1111-111111111111"), Guid.Parse("33333333-3333-3333-3333-333333333333")]));

        Assert.Equal("Mediated device 33333333-3333-3333-3333-333333333333 is not defined: only defined devices can join group vm1", e.Message);
        Assert.False(Directory.Exists(_root.Join("etc/mdevkit/groups")));
    }

    [Fact]
    public void Plan_IgnoresAModelThatDoesNotKnowACurrentType()
    {
        const string Gpu = "sys/devices/pci0000:00/0000:3e:00.0";
        _root.Parent(Gpu, "0000:3e:00.0");
        _root.Type(Gpu, "nvidia-11", 16, "vfio-pci", "GRID M60-0B", null);
        _root.Type(Gpu, "nvidia-12", 16, "vfio-pci", "GRID M60-0Q", null);
        var environment = new MdevctlEnvironment(_root.Path);
        var store = new CapacityStore(environment);
        store.Save(new CapacityModel("0000:3e:00.0", CapacityKind.Exclusive, [new TypeCapacity("nvidia-11", 16)]));

        var plan = new Planner(store, new KernelDevices(environment, vendorVfio: true), new DefinitionStore(environment)).Plan([new DeviceRequest("nvidia-12", 2)]);

        Assert.Equal([new PlannedDevice("0000:3e:00.0", "nvidia-12"), new PlannedDevice("0000:3e:00.0", "nvidia-12")], plan.Devices);
        Assert.False(Assert.Single(plan.Offer).Probed);
    }

    public void Dispose() => _root.Dispose();
}
