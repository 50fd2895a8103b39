using System.Text;
using System.Xml.Linq;

namespace Mdevkit.Management.Libvirt;

/// <summary>
/// Renders XML the way libvirt formats its documents, so our output diffs clean against virsh's: two-space
/// indents, single-quoted attributes, a text-only element on one line, an empty one closed with <c>/&gt;</c>,
/// a newline after every element, and the five XML specials escaped (other control characters dropped).
/// </summary>
public static class LibvirtXml
{
    /// <summary>The element and its children, ending in a newline.</summary>
    public static string Format(XElement element)
    {
        var text = new StringBuilder();
        Write(text, element, 0);
        return text.ToString();
    }

    /// <summary>Escapes text for an element or a single-quoted attribute.</summary>
    public static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            _ = c switch
            {
                '<' => text.Append("&lt;"),
                '>' => text.Append("&gt;"),
                '&' => text.Append("&amp;"),
                '\'' => text.Append("&apos;"),
                '"' => text.Append("&quot;"),
                // XML 1.0 cannot carry these at all.
                < ' ' and not ('\t' or '\n' or '\r') => text,
                _ => text.Append(c),
            };
        }
        return text.ToString();
    }

    private static void Write(StringBuilder text, XElement element, int depth)
    {
        var name = element.Name.LocalName;
        text.Append(' ', depth * 2).Append('<').Append(name);
        foreach (var attribute in element.Attributes())
        {
            text.Append(' ').Append(attribute.Name.LocalName).Append("='").Append(Escape(attribute.Value)).Append('\'');
        }
        if (!element.HasElements)
        {
            text.Append(element.Value.Length == 0 ? "/>\n" : $">{Escape(element.Value)}</{name}>\n");
            return;
        }
        text.Append(">\n");
        foreach (var child in element.Elements())
        {
            Write(text, child, depth + 1);
        }
        text.Append(' ', depth * 2).Append("</").Append(name).Append(">\n");
    }
}
