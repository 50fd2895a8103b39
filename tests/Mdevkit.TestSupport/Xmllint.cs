namespace Mdevkit.TestSupport;

/// <summary>libvirt's RELAX NG schemas, checked with xmllint as a real process. A missing tool or schema fails the test.</summary>
public static class Xmllint
{
    public const string SchemaDirectory = "/usr/share/libvirt/schemas";

    /// <summary>Validates a document against <c>nodedev.rng</c>, <c>domain.rng</c> or another libvirt schema; returns xmllint's complaint, or null when it validates.</summary>
    public static string? Check(string xml, string schema)
    {
        var path = Path.Join(SchemaDirectory, schema);
        if (!File.Exists(path))
        {
            return $"{path} is missing: install libvirt0 (scripts/setup.sh does)";
        }
        CommandResult result;
        try
        {
            result = CommandRunner.Run("xmllint", ["--noout", "--relaxng", path, "-"], xml);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"xmllint cannot run ({e.Message}): install libxml2-utils (scripts/setup.sh does)";
        }
        return result.ExitCode == 0 ? null : $"xmllint exit {result.ExitCode}: {result.Error}\n{xml}";
    }

    /// <summary>A hostdev inside the smallest domain the schema accepts.</summary>
    public static string InDomain(string hostdev) =>
        "<domain type='kvm'>\n  <name>guest</name>\n  <memory>1048576</memory>\n  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n"
        + hostdev + "  </devices>\n</domain>\n";
}
