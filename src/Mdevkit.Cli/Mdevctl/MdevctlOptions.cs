using System.Buffers;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

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

    /// <summary>mdevctl's <c>--index</c>: a u32, with clap's messages for what is not one.</summary>
    public static Option<uint?> Index(string description) => new("--index", "-i")
    {
        Description = description,
        HelpName = "INDEX",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                return index;
            }
            var reason = text.Length == 0 ? "cannot parse integer from empty string"
                : text.All(char.IsAsciiDigit) ? "number too large to fit in target type"
                : "invalid digit found in string";
            result.AddError($"Invalid value {RustQuoted(text)} for '--index <INDEX>': {reason}");
            return null;
        },
    };

    /// <summary>A UUID argument of mdevkit's own commands; a bad one is named with the argument and the command.</summary>
    public static Argument<Guid> UuidArgument(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseUuidArgument(result, result.Tokens.Count == 1 ? result.Tokens[0].Value : ""),
    };

    /// <summary>Several UUID arguments, each checked as <see cref="UuidArgument"/> checks one.</summary>
    public static Argument<Guid[]> UuidArguments(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result => [.. result.Tokens.Select(token => ParseUuidArgument(result, token.Value))],
    };

    private static Guid ParseUuidArgument(ArgumentResult result, string text)
    {
        if (TryParseUuid(text, out var uuid, out _))
        {
            return uuid;
        }
        var command = result.Parent is CommandResult parent ? CommandPath(parent) : "";
        result.AddError($"'{text}' is not a UUID (argument <{result.Argument.Name}> of {command})");
        return default;
    }

    private static string CommandPath(CommandResult command) =>
        command.Parent is CommandResult { Parent: not null } parent ? $"{CommandPath(parent)} {command.Command.Name}" : command.Command.Name;

    private static Guid? ParseUuid(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (TryParseUuid(text, out var uuid, out var reason))
        {
            return uuid;
        }
        result.AddError($"Invalid value {RustQuoted(text)} for '--uuid <UUID>': {reason}");
        return null;
    }

    // The forms the uuid crate accepts: hyphenated, simple, braced, or a urn. What it refuses, it refuses
    // with its words: white space around a UUID (which .NET's parser would trim) is an invalid character.
    private static bool TryParseUuid(string text, out Guid uuid, out string reason)
    {
        uuid = default;
        var prefix = text.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase) ? "urn:uuid:".Length : 0;
        var candidate = text[prefix..];
        var braced = candidate.Length >= 2 && candidate[0] == '{' && candidate[^1] == '}';
        var body = braced ? candidate[1..^1] : candidate;
        var bad = body.AsSpan().IndexOfAnyExcept(s_uuidCharacters);
        if (bad >= 0)
        {
            var position = prefix + (braced ? 1 : 0) + bad + 1;
            reason = $"invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found `{body[bad]}` at {position}";
            return false;
        }
        reason = "not a UUID";
        return Guid.TryParseExact(body, "D", out uuid) || Guid.TryParseExact(body, "N", out uuid);
    }

    private static readonly SearchValues<char> s_uuidCharacters = SearchValues.Create("0123456789abcdefABCDEF-");

    // A value as clap quotes it (Rust's Debug form of a string).
    private static string RustQuoted(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{{{(int)c:x}}}",
                _ => c.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }
}
