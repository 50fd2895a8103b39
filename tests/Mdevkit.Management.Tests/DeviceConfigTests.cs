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

    // serde_json's words and positions, as Debian's mdevctl prints them for these files.
    [Theory]
    [InlineData("", "EOF while parsing a value at line 1 column 0")]
    [InlineData("  \n ", "EOF while parsing a value at line 2 column 1")]
    [InlineData("{\"mdev_type\":\"x\",\"start\":\"manual\"", "EOF while parsing an object at line 1 column 33")]
    [InlineData("{\"mdev_type\":\"x\",\n \"start\":\"manual\"\n", "EOF while parsing an object at line 3 column 0")]
    [InlineData("[", "EOF while parsing a list at line 1 column 1")]
    [InlineData("""{"a":"abc""", "EOF while parsing a string at line 1 column 9")]
    [InlineData("""{"mdev_type":"x", "start":"manual"] """, "expected `,` or `}` at line 1 column 35")]
    [InlineData("""{"mdev_type":"x","start":"manual","attrs":[1 2]}""", "expected `,` or `]` at line 1 column 46")]
    [InlineData("""{"mdev_type":"x", "start":"manual"} x""", "trailing characters at line 1 column 37")]
    [InlineData("""{"mdev_type":"x", "start":"manual",}""", "trailing comma at line 1 column 36")]
    [InlineData("""{"mdev_type" "x"}""", "expected `:` at line 1 column 14")]
    [InlineData("{\"mdev_type\":\"x\u0001\"}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 16")]
    [InlineData("""{"mdev_type":tru}""", "expected ident at line 1 column 17")]
    [InlineData("""{"a":"\q"}""", "invalid escape at line 1 column 8")]
    [InlineData("""{"a":"\u12zz"}""", "invalid escape at line 1 column 11")]
    [InlineData("""{1:2}""", "key must be a string at line 1 column 2")]
    [InlineData("""{"a":01}""", "invalid number at line 1 column 7")]
    [InlineData("""{"a":-}""", "invalid number at line 1 column 7")]
    [InlineData("""{"mdev_type":"\ud800","start":"manual"}""", "unexpected end of hex escape at line 1 column 21")]
    [InlineData("""{"mdev_type":"\ud800\u0041","start":"manual"}""", "lone leading surrogate in hex escape at line 1 column 26")]
    [InlineData("""{"mdev_type":"\udc00","start":"manual"}""", "lone leading surrogate in hex escape at line 1 column 20")]
    public void Parse_NotJson_SaysWhatAndWhereAsMdevctl(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<ConfigException>(() => DeviceConfig.Parse(text)).Message);
    }

    [Fact]
    public void Parse_SurrogatePair_IsOneCharacter()
    {
        Assert.Equal("\U0001F600", DeviceConfig.Parse("""{"mdev_type":"\ud83d\ude00","start":"manual"}""").MdevType);
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
