using System.Globalization;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// The part of CEL the allocator understands: conjunctions (<c>&amp;&amp;</c>) of equalities on the driver and on
/// attributes, <c>device.driver == "mdev.mdevkit.io"</c> and <c>device.attributes["mdev.mdevkit.io"].type == "nvidia-222"</c>
/// (a string, integer or boolean on the right). Anything else is refused with the expression, never guessed at.
/// </summary>
public static partial class AllocatorSelectors
{
    /// <summary>A compiled selector: whether a device of a driver matches.</summary>
    public delegate bool Matcher(string driver, V1Device device);

    /// <summary>Compiles one CEL expression.</summary>
    /// <exception cref="NotSupportedException">The expression is outside the supported forms.</exception>
    public static Matcher Compile(string expression)
    {
        var terms = expression.Split("&&", StringSplitOptions.TrimEntries).Select(term => Term(term, expression)).ToList();
        return (driver, device) => terms.All(term => term(driver, device));
    }

    private static Matcher Term(string term, string expression)
    {
        if (DriverEquality().Match(term) is { Success: true } driverMatch)
        {
            var wanted = driverMatch.Groups["value"].Value;
            return (driver, _) => driver == wanted;
        }
        if (AttributeEquality().Match(term) is not { Success: true } match)
        {
            throw new NotSupportedException($"The allocator understands only equalities on device.driver and device.attributes: '{expression}'");
        }
        var domain = match.Groups["domain"].Value;
        var name = match.Groups["name"].Value;
        var literal = match.Groups["value"].Value;
        return (driver, device) =>
        {
            // An attribute without a domain is in the driver's; a qualified one names its domain.
            var attributes = device.Attributes ?? new Dictionary<string, V1DeviceAttribute>();
            return (attributes.TryGetValue($"{domain}/{name}", out var attribute) || (domain == driver && attributes.TryGetValue(name, out attribute)))
                && Equal(attribute, literal);
        };
    }

    private static bool Equal(V1DeviceAttribute attribute, string literal) => literal switch
    {
        ['"', .. var text, '"'] => attribute.StringValue == text,
        "true" or "false" => attribute.BoolValue == (literal == "true"),
        _ => long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) && attribute.IntValue == number,
    };

    [GeneratedRegex("""^\(?\s*device\.driver\s*==\s*"(?<value>[^"]*)"\s*\)?$""")]
    private static partial Regex DriverEquality();

    [GeneratedRegex("""^\(?\s*device\.attributes\["(?<domain>[^"]+)"\]\.(?<name>[A-Za-z][A-Za-z0-9_]*)\s*==\s*(?<value>"[^"]*"|-?[0-9]+|true|false)\s*\)?$""")]
    private static partial Regex AttributeEquality();
}
