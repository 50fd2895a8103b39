namespace Mdevkit.Sysfs.Tests;

public sealed class KernelNumberTests
{
    [Theory]
    [InlineData("0", 0ul)]
    [InlineData("0\n", 0ul)]
    [InlineData("0x0", 0ul)]
    [InlineData("1", 1ul)]
    [InlineData("1\n", 1ul)]
    [InlineData("+1", 1ul)]
    [InlineData("0x1", 1ul)]
    [InlineData("0XaB", 0xabul)]
    [InlineData("010", 8ul)]
    [InlineData("5", 5ul)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("1\0garbage", 1ul)] // a sysfs store buffer ends at the first NUL
    public void ParseUnsigned_KstrtoulBase0_Parses(string text, ulong expected)
    {
        Assert.Equal(Errno.None, KernelNumber.ParseUnsigned(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("-1")]
    [InlineData("yes")]
    [InlineData("0x")] // base 8 then, and 'x' is left over
    [InlineData("08")]
    [InlineData("1\n\n")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("++1")]
    public void ParseUnsigned_NotANumber_IsEinval(string text)
    {
        Assert.Equal(Errno.EINVAL, KernelNumber.ParseUnsigned(text, out _));
    }

    [Theory]
    [InlineData("18446744073709551616")]
    [InlineData("0x10000000000000000")]
    public void ParseUnsigned_Overflow_IsErange(string text)
    {
        Assert.Equal(Errno.ERANGE, KernelNumber.ParseUnsigned(text, out _));
    }
}
