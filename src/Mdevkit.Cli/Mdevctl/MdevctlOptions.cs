using System.CommandLine;
using System.CommandLine.Parsing;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>The options mdevctl's commands share, spelled as mdevctl spells them.</summary>
internal static class MdevctlOptions
{
    public static Option<Guid?> Uuid(string description, bool required = false) => new("--uuid", "-u")
    {
        Description = description,
        Required = required,
        HelpName = "UUID",
        CustomParser = ParseUuid,
    };

    public static Option<string?> Parent(string description) => new("--parent", "-p") { Description = description, HelpName = "PARENT" };

    public static Option<string?> Type(string description) => new("--type", "-t") { Description = description, HelpName = "type" };

    public static Option<string?> JsonFile(string description) => new("--jsonfile") { Description = description, HelpName = "JSONFILE" };

    public static Option<bool> Flag(string name, string? alias, string description) =>
        alias is null ? new(name) { Description = description } : new(name, alias) { Description = description };

    public static Option<bool> Force() => Flag("--force", "-f",
        "Force command execution even if device-specific callout script fails\nNOTE: only use this option if you are sure you know what you are doing");

    public static Option<string> Root() => new("--root")
    {
        Description = "Use this directory as / (default: $MDEVCTL_ENV_ROOT, else /)",
        HelpName = "DIR",
    };

    /// <summary>Fails the parse when both options are present, as clap's <c>conflicts_with</c> does.</summary>
    public static void Conflict(Command command, Option first, Option second) => command.Validators.Add(result =>
    {
        if (result.GetResult(first) is { Implicit: false } && result.GetResult(second) is { Implicit: false })
        {
            result.AddError($"the argument '{first.Name}' cannot be used with '{second.Name}'");
        }
    });

    /// <summary>Fails the parse when <paramref name="option"/> is present without <paramref name="required"/>.</summary>
    public static void Requires(Command command, Option option, Option required) => command.Validators.Add(result =>
    {
        if (result.GetResult(option) is { Implicit: false } && result.GetResult(required) is null)
        {
            result.AddError($"the following required arguments were not provided: {required.Name}");
        }
    });

    /// <summary>Fails the parse unless one of the options is present.</summary>
    public static void OneOf(Command command, params Option[] options) => command.Validators.Add(result =>
    {
        if (options.All(option => result.GetResult(option) is null))
        {
            result.AddError($"the following required arguments were not provided: <{string.Join('|', options.Select(option => option.Name))}>");
        }
    });

    // The forms the uuid crate accepts: hyphenated, simple, braced, or a urn.
    private static Guid? ParseUuid(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var candidate = text.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase) ? text["urn:uuid:".Length..] : text;
        foreach (var format in new[] { "D", "N", "B" })
        {
            if (Guid.TryParseExact(candidate, format, out var uuid))
            {
                return uuid;
            }
        }
        result.AddError($"invalid value '{text}' for '--uuid <UUID>': not a UUID");
        return null;
    }
}
