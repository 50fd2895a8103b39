using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>list and types output on a fixture root: two parents with running devices and definitions.</summary>
public sealed class ListingTests : IDisposable
{
    private const string P0 = "0000:00:02.0";
    private const string P1 = "0000:00:03.0";
    private const string U0 = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
    private const string U1 = "59e8b599-afdd-4766-a59e-415ef4f5a492";
    private const string U2 = "4a0a190f-dcf3-4def-9342-c48768f0c940";
    private const string U3 = "9f579710-6ffc-4201-987a-4ffa0fb1f3a5";
    private readonly TempRoot _root = new(nameof(ListingTests));
    private readonly DeviceInventory _inventory;

    public ListingTests()
    {
        var p0 = $"sys/devices/pci0000:00/{P0}";
        var p1 = $"sys/devices/pci0000:00/{P1}";
        _root.Parent(p0, P0);
        _root.Parent(p1, P1);
        _root.Type(p0, "arbitrary_type1", 1, "vfio-pci", "name1", "description 1\nsecond line\n");
        _root.Type(p1, "arbitrary_type2", 16, "vfio-pci", "GRID M10-0Q", null);
        _root.Type(p1, "nvidia-155", 4, "vfio-pci", null, null);
        _root.Device(p0, U0, "arbitrary_type1");
        _root.Device(p1, U1, "arbitrary_type2");
        _root.File($"etc/mdevctl.d/{P0}/{U2}", """{"mdev_type":"i915-GVTg_V5_8","start":"auto","attrs":[]}""");
        var ap = """{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[{"assign_adapter":"5"},{"assign_domain":"0xab"}]}""";
        _root.File($"etc/mdevctl.d/{P1}/{U3}", ap);
        _root.File($"etc/mdevctl.d/{P0}/{U3}", ap);
        _root.File($"etc/mdevctl.d/{P1}/{U1}", """{"mdev_type":"arbitrary_type2","start":"auto"}""");
        var environment = new MdevctlEnvironment(_root.Path);
        _inventory = new DeviceInventory(environment, new DefinitionStore(environment), new Callouts(environment, TextWriter.Null));
    }

    [Fact]
    public void ListActive_Text_MarksDefinedAndTakesStartFromDefinition()
    {
        Assert.Equal(
            $"{U0} {P0} arbitrary_type1 manual\n{U1} {P1} arbitrary_type2 auto (defined)\n",
            MdevctlFormat.ListText(_inventory.Active(), definedListing: false, verbose: true));
    }

    [Fact]
    public void ListDefined_VerboseText_SortsByParentThenUuidAndShowsAttributes()
    {
        Assert.Equal(
            $"{U2} {P0} i915-GVTg_V5_8 auto\n" +
            $"{U3} {P0} vfio_ap-passthrough manual\n  Attrs:\n    @{{0}}: {{\"assign_adapter\":\"5\"}}\n    @{{1}}: {{\"assign_domain\":\"0xab\"}}\n" +
            $"{U1} {P1} arbitrary_type2 auto (active)\n" +
            $"{U3} {P1} vfio_ap-passthrough manual\n  Attrs:\n    @{{0}}: {{\"assign_adapter\":\"5\"}}\n    @{{1}}: {{\"assign_domain\":\"0xab\"}}\n",
            MdevctlFormat.ListText(_inventory.Defined(), definedListing: true, verbose: true));
    }

    [Fact]
    public void ListDefined_Json_IsParentHierarchy()
    {
        var json = MdevctlFormat.ListJson(_inventory.Defined(parent: P1), uuidRequested: false);

        Assert.Equal(
            $$"""
            [
              {
                "{{P1}}": [
                  {
                    "{{U1}}": {
                      "mdev_type": "arbitrary_type2",
                      "start": "auto",
                      "attrs": []
                    }
                  },
                  {
                    "{{U3}}": {
                      "mdev_type": "vfio_ap-passthrough",
                      "start": "manual",
                      "attrs": [
                        {
                          "assign_adapter": "5"
                        },
                        {
                          "assign_domain": "0xab"
                        }
                      ]
                    }
                  }
                ]
              }
            ]
            """,
            json);
    }

    [Fact]
    public void ListJson_OneUuidMatchingOneDevice_IsBareConfig()
    {
        var json = MdevctlFormat.ListJson(_inventory.Defined(uuid: Guid.Parse(U3), parent: P0), uuidRequested: true);

        Assert.StartsWith("{\n  \"mdev_type\": \"vfio_ap-passthrough\",", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ListJson_OneUuidOnTwoParents_IsHierarchy()
    {
        var json = MdevctlFormat.ListJson(_inventory.Defined(uuid: Guid.Parse(U3)), uuidRequested: true);

        Assert.StartsWith($"[\n  {{\n    \"{P0}\": [", json, StringComparison.Ordinal);
        Assert.Contains($"\n    \"{P1}\": [", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ListJson_NoMatch_IsEmptyArray()
    {
        Assert.Equal("[]", MdevctlFormat.ListJson(_inventory.Defined(parent: "nonexistent"), uuidRequested: false));
        Assert.Equal("[]", MdevctlFormat.ListJson(_inventory.Active(uuid: Guid.NewGuid()), uuidRequested: true));
        Assert.Equal("", MdevctlFormat.ListText(_inventory.Active(parent: "nonexistent"), definedListing: false, verbose: false));
    }

    [Fact]
    public void Types_Text_ShowsOptionalNameAndOneLineDescription()
    {
        Assert.Equal(
            $"{P0}\n  arbitrary_type1\n    Available instances: 1\n    Device API: vfio-pci\n    Name: name1\n    Description: description 1, second line\n" +
            $"{P1}\n  arbitrary_type2\n    Available instances: 16\n    Device API: vfio-pci\n    Name: GRID M10-0Q\n" +
            "  nvidia-155\n    Available instances: 4\n    Device API: vfio-pci\n",
            MdevctlFormat.TypesText(_inventory.Types()));
    }

    [Fact]
    public void Types_Json_OmitsAbsentFields()
    {
        Assert.Equal(
            $$"""
            [
              {
                "{{P1}}": [
                  {
                    "arbitrary_type2": {
                      "available_instances": 16,
                      "device_api": "vfio-pci",
                      "name": "GRID M10-0Q"
                    }
                  },
                  {
                    "nvidia-155": {
                      "available_instances": 4,
                      "device_api": "vfio-pci"
                    }
                  }
                ]
              }
            ]
            """,
            MdevctlFormat.TypesJson(_inventory.Types(P1)));
    }

    [Fact]
    public void Defined_InvalidFile_FailsWholeListing()
    {
        _root.File($"etc/mdevctl.d/{P0}/{U0}", "{\"mdev_type\":\"x\"}");

        Assert.Equal("invalid json", Assert.Throws<ConfigException>(() => _inventory.Defined()).Problem);
    }

    [Fact]
    public void Defined_ManyFiles_KeepTheirOrder_AndTheFirstBadFileInOrderIsReported()
    {
        using var root = new TempRoot(nameof(ListingTests));
        var uuids = Enumerable.Range(0, 40).Select(i => $"00000000-0000-4000-8000-{i:x12}").ToArray();
        foreach (var uuid in uuids)
        {
            root.File($"etc/mdevctl.d/{P0}/{uuid}", """{"mdev_type":"i915-GVTg_V5_8","start":"manual"}""");
        }
        var environment = new MdevctlEnvironment(root.Path);
        var inventory = new DeviceInventory(environment, new DefinitionStore(environment), new Callouts(environment, TextWriter.Null));
        Directory.CreateDirectory(root.Join("sys/class/mdev_bus"));
        var listed = inventory.Defined();
        root.File($"etc/mdevctl.d/{P0}/{uuids[5]}", """{"mdev_type":"x","start":"auto","attrs":"nope"}""");
        root.File($"etc/mdevctl.d/{P0}/{uuids[30]}", """{"mdev_type":"x"}""");

        var error = Assert.Throws<ConfigException>(() => inventory.Defined());

        Assert.Equal(uuids, listed.Select(device => device.Uuid.ToString()));
        Assert.Equal(("attributes field is not an array", root.Join($"etc/mdevctl.d/{P0}/{uuids[5]}")), (error.Problem, error.Path));
    }

    [Fact]
    public void Types_OfManyParents_KeepTheirOrder_AndTheFirstBrokenParentFailsTheListing()
    {
        using var root = new TempRoot(nameof(ListingTests));
        // Enough parents to be read on several threads; parent 9 lacks mdev_supported_types (ENOENT), and
        // parent 30's is a link to itself (ELOOP): the error shows which failure came first in order.
        var names = Enumerable.Range(0, 40).Select(i => $"0000:{i + 16:x2}:00.0").ToArray();
        foreach (var (name, i) in names.Select((name, i) => (name, i)))
        {
            root.Parent($"sys/devices/pci0000:00/{name}", name);
            if (i is not (9 or 30))
            {
                root.Type($"sys/devices/pci0000:00/{name}", $"type-{i}", i, "vfio-pci", null, null);
            }
        }
        root.Link($"sys/devices/pci0000:00/{names[30]}/mdev_supported_types", "mdev_supported_types");
        var environment = new MdevctlEnvironment(root.Path);
        var inventory = new DeviceInventory(environment, new DefinitionStore(environment), new Callouts(environment, TextWriter.Null));

        var error = Assert.Throws<MdevctlException>(() => inventory.Types());
        Directory.Delete(root.Join($"sys/devices/pci0000:00/{names[9]}"));
        File.Delete(root.Join($"sys/class/mdev_bus/{names[9]}"));
        Directory.Delete(root.Join($"sys/devices/pci0000:00/{names[30]}"), recursive: true);
        File.Delete(root.Join($"sys/class/mdev_bus/{names[30]}"));
        var types = inventory.Types();

        Assert.Equal("Error: No such file or directory (os error 2)\n", error.Render());
        Assert.Equal(names.Where((_, i) => i is not (9 or 30)), types.Select(entry => entry.Parent));
        Assert.All(types, entry => Assert.Equal($"type-{Array.IndexOf(names, entry.Parent)}", Assert.Single(entry.Types).Id));
    }

    public void Dispose() => _root.Dispose();
}
