namespace Mdevkit.Management.Tests;

public sealed class DeviceConfigTests
{
    [Fact]
    public void ToPrettyJson_MatchesMdevctlStoredForm()
    {
        var config = new DeviceConfig("vfio_ap-passthrough", AutoStart: false, [new("assign_adapter", "5"), new("assign_domain", "0xab")]);

        Assert.Equal(
            "{\n  \"mdev_type\": \"vfio_ap-passthrough\",\n  \"start\": \"manual\",\n  \"attrs\": [\n    {\n      \"assign_adapter\": \"5\"\n    },\n    {\n      \"assign_domain\": \"0xab\"\n    }\n  ]\n}",
            config.ToPrettyJson());
    }

    [Fact]
    public void ToPrettyJson_NoAttributes_WritesEmptyArray()
    {
        Assert.Equal(
            "{\n  \"mdev_type\": \"i915-GVTg_V5_4\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}",
            new DeviceConfig("i915-GVTg_V5_4", AutoStart: true, []).ToPrettyJson());
    }

    [Fact]
    public void ToCompactJson_IsWhatCalloutsReadOnStdin()
    {
        Assert.Equal(
            """{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[]}""",
            new DeviceConfig("vfio_ap-passthrough", AutoStart: true, []).ToCompactJson());
    }

    [Theory]
    [InlineData("""{"mdev_type":"t","start":"manual"}""", false, 0)]
    [InlineData("""{"mdev_type":"t","start":"auto","attrs":null}""", true, 0)]
    [InlineData("""{"mdev_type":"t","start":"whenever","attrs":[{"a":"1"},{"a":"2"}],"extra":42}""", false, 2)]
    public void Parse_MdevctlRules_Accepts(string json, bool autoStart, int attributes)
    {
        var config = DeviceConfig.Parse(json);

        Assert.Equal("t", config.MdevType);
        Assert.Equal(autoStart, config.AutoStart);
        Assert.Equal(attributes, config.Attributes.Count);
    }

    [Fact]
    public void Parse_RoundTrip_KeepsAttributeOrderAndDuplicates()
    {
        var config = new DeviceConfig("t", false, [new("assign_adapter", "6"), new("assign_adapter", "5"), new("x", "\"quoted\" é")]);

        Assert.Equal(config, DeviceConfig.Parse(config.ToPrettyJson()));
    }

    [Theory]
    [InlineData("""{"start":"manual"}""", "invalid json")]
    [InlineData("""{"mdev_type":"t"}""", "invalid json")]
    [InlineData("""{"mdev_type":null,"start":"manual"}""", "invalid json")]
    [InlineData("""[]""", "invalid json")]
    [InlineData("""{"mdev_type":"t","start":"auto","attrs":{}}""", "attributes field is not an array")]
    [InlineData("""{"mdev_type":"t","start":"auto","attrs":["a"]}""", "invalid JSON format for attribute: not an object")]
    [InlineData("""{"mdev_type":"t","start":"auto","attrs":[{"a":"1","b":"2"}]}""", "invalid JSON format for attribute: too many fields")]
    [InlineData("""{"mdev_type":"t","start":"auto","attrs":[{"a":1}]}""", "invalid JSON format for attribute: value must be of type str")]
    public void Parse_Invalid_ThrowsMdevctlMessage(string json, string message)
    {
        Assert.Equal(message, Assert.Throws<ConfigException>(() => DeviceConfig.Parse(json)).Message);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("mdev_type=i915")]
    [InlineData("")]
    public void Parse_NotJson_ThrowsConfigException(string text)
    {
        Assert.Throws<ConfigException>(() => DeviceConfig.Parse(text));
    }
}
