using Mdevkit.Simulation.Drivers;
using Mdevkit.Simulation.Profiles;

namespace Mdevkit.Simulation.Tests;

public sealed class IdListTests
{
    [Theory]
    [InlineData("5-6", new[] { 5, 6 })]
    [InlineData("4,0x47", new[] { 4, 0x47 })]
    [InlineData(" 9 , 1-3 ,1", new[] { 1, 2, 3, 9 })]
    [InlineData("0x0a-0x0c", new[] { 10, 11, 12 })]
    [InlineData("010", new[] { 8 })]
    [InlineData("0,255", new[] { 0, 255 })]
    [InlineData("7-7", new[] { 7 })]
    [InlineData("", new int[0])]
    public void Parse_ValidList_GivesSortedIds(string text, int[] expected)
    {
        Assert.Equal(expected, IdList.Parse(text, "adapters"));
    }

    [Theory]
    [InlineData("256", "'256' is not a number")]
    [InlineData("five", "'five' is not a number")]
    [InlineData("5-", "'5-' is not a number")]
    [InlineData("-5", "'-5' is not a number")]
    [InlineData("1-2-3", "'1-2-3' is not a number")]
    [InlineData("0x100-0x101", "'0x100-0x101' is not a number")]
    [InlineData("6-5", "the range '6-5' runs backwards")]
    public void Parse_BadEntry_NamesParameterAndEntry(string text, string message)
    {
        var e = Assert.Throws<ProfileException>(() => IdList.Parse(text, "domains"));

        Assert.StartsWith("'domains': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
