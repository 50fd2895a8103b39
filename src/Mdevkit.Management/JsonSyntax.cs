using System.Text;
using System.Text.Json;

namespace Mdevkit.Management;

/// <summary>
/// Checks JSON text the way mdevctl's parser (serde_json) reads it, and says what is wrong in its words and
/// at its position: <c>EOF while parsing a value at line 1 column 0</c>. A line counts from 1; a column is
/// the bytes of the line up to and including the offending one (at the end of the text: the bytes read).
/// </summary>
public ref struct JsonSyntax
{
    // serde_json's nesting limit.
    private const int MaxDepth = 128;

    private readonly ReadOnlySpan<byte> _text;
    private int _position;
    private int _depth;

    private JsonSyntax(ReadOnlySpan<byte> text)
    {
        _text = text;
    }

    // serde_json nests up to 128 levels; .NET's reader stops at 64 unless told.
    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = 2 * MaxDepth };

    /// <summary>Parses JSON that mdevctl would read; what it would not, fails with its words.</summary>
    /// <exception cref="ConfigException">The text is not JSON, with serde_json's message and position.</exception>
    public static JsonDocument Parse(string json)
    {
        // The check also refuses what .NET's reader lets through (a lone surrogate escape), so reading
        // the document's strings cannot fail later.
        if (FindError(Encoding.UTF8.GetBytes(json)) is { } error)
        {
            throw new ConfigException(error);
        }
        return JsonDocument.Parse(json, s_documentOptions);
    }

    /// <summary>
    /// Deserializes one of mdevkit's own documents (plans, requests, capacity models); a syntax error is told
    /// in the same words as a definition's, a document of the wrong shape by the JSON path of the value that
    /// does not fit — never by the serializer's message, which names .NET types (or, trimmed, is a resource key).
    /// </summary>
    /// <param name="json">The text.</param>
    /// <param name="type">The document's type information (source-generated).</param>
    /// <param name="what">What the document should be, for the message: "a plan".</param>
    /// <param name="path">Where the text came from.</param>
    /// <exception cref="InvalidInputException"><c>"PATH" is not WHAT: …</c>.</exception>
    public static T Deserialize<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what, string path)
    {
        if (FindError(Encoding.UTF8.GetBytes(json)) is { } error)
        {
            throw new InvalidInputException($"\"{path}\" is not {what}: {error}");
        }
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new InvalidInputException($"\"{path}\" is not {what}: null at line 1");
        }
        catch (JsonException e)
        {
            // The reader's position is past the value, which is serde_json's column: the bytes up to and including it.
            throw new InvalidInputException($"\"{path}\" is not {what}: the value at {e.Path ?? "$"} does not fit at line {e.LineNumber + 1} column {e.BytePositionInLine}");
        }
    }

    /// <summary>What serde_json would say about <paramref name="utf8"/>, or null when it reads it.</summary>
    public static string? FindError(ReadOnlySpan<byte> utf8) =>
        Locate(utf8) is { } error ? $"{error.What} at line {error.Line} column {error.Column}" : null;

    /// <summary>What serde_json would say about <paramref name="utf8"/> and where, or null when it reads it.</summary>
    public static (string What, int Line, int Column)? Locate(ReadOnlySpan<byte> utf8)
    {
        var syntax = new JsonSyntax(utf8);
        try
        {
            syntax.Value();
            syntax.SkipWhiteSpace();
            if (!syntax.AtEnd)
            {
                syntax.Fail("trailing characters");
            }
            return null;
        }
        catch (SyntaxError e)
        {
            return (e.What, e.Line, e.Column);
        }
    }

    /// <summary>The line and column (from 1) where byte <paramref name="index"/> of <paramref name="utf8"/> is.</summary>
    public static (int Line, int Column) PositionOf(ReadOnlySpan<byte> utf8, int index)
    {
        var before = utf8[..index];
        return (before.Count((byte)'\n') + 1, index - before.LastIndexOf((byte)'\n'));
    }

    private readonly bool AtEnd => _position >= _text.Length;

    private readonly byte Current => _text[_position];

    private void Value()
    {
        SkipWhiteSpace();
        if (AtEnd)
        {
            End("a value");
        }
        switch (Current)
        {
            case (byte)'n':
                Ident("null");
                break;
            case (byte)'t':
                Ident("true");
                break;
            case (byte)'f':
                Ident("false");
                break;
            case (byte)'-' or (>= (byte)'0' and <= (byte)'9'):
                Number();
                break;
            case (byte)'"':
                String();
                break;
            case (byte)'[':
                Container(isObject: false);
                break;
            case (byte)'{':
                Container(isObject: true);
                break;
            default:
                Fail("expected value");
                break;
        }
    }

    // An array or an object: items split by commas, no comma before the close.
    private void Container(bool isObject)
    {
        var (close, what, expectedSeparator) = isObject ? ('}', "an object", "expected `,` or `}`") : (']', "a list", "expected `,` or `]`");
        if (++_depth > MaxDepth)
        {
            Fail("recursion limit exceeded");
        }
        _position++;
        SkipWhiteSpace();
        if (AtEnd)
        {
            End(what);
        }
        if (Current != close)
        {
            while (true)
            {
                if (isObject)
                {
                    Member();
                }
                else
                {
                    Value();
                }
                SkipWhiteSpace();
                if (AtEnd)
                {
                    End(what);
                }
                if (Current == close)
                {
                    break;
                }
                if (Current != ',')
                {
                    Fail(expectedSeparator);
                }
                _position++;
                SkipWhiteSpace();
                if (!AtEnd && Current == close)
                {
                    Fail("trailing comma");
                }
            }
        }
        _position++;
        _depth--;
    }

    private void Member()
    {
        SkipWhiteSpace();
        if (AtEnd)
        {
            End("an object");
        }
        if (Current != '"')
        {
            Fail("key must be a string");
        }
        String();
        SkipWhiteSpace();
        if (AtEnd)
        {
            End("an object");
        }
        if (Current != ':')
        {
            Fail("expected `:`");
        }
        _position++;
        Value();
    }

    private void Ident(string word)
    {
        foreach (var expected in word)
        {
            if (AtEnd)
            {
                End("a value");
            }
            if (Current != expected)
            {
                Fail("expected ident");
            }
            _position++;
        }
    }

    private void Number()
    {
        if (Current == '-')
        {
            _position++;
        }
        if (AtEnd)
        {
            End("a value");
        }
        if (Current == '0')
        {
            _position++;
            if (!AtEnd && char.IsAsciiDigit((char)Current))
            {
                Fail("invalid number");
            }
        }
        else
        {
            Digits();
        }
        if (!AtEnd && Current == '.')
        {
            _position++;
            Digits();
        }
        if (!AtEnd && Current is (byte)'e' or (byte)'E')
        {
            _position++;
            if (!AtEnd && Current is (byte)'+' or (byte)'-')
            {
                _position++;
            }
            Digits();
        }
    }

    // One or more digits.
    private void Digits()
    {
        if (AtEnd)
        {
            End("a value");
        }
        if (!char.IsAsciiDigit((char)Current))
        {
            Fail("invalid number");
        }
        while (!AtEnd && char.IsAsciiDigit((char)Current))
        {
            _position++;
        }
    }

    private void String()
    {
        _position++;
        while (true)
        {
            if (AtEnd)
            {
                End("a string");
            }
            var c = Current;
            if (c == '"')
            {
                _position++;
                return;
            }
            if (c < 0x20)
            {
                Fail("control character (\\u0000-\\u001F) found while parsing a string");
            }
            _position++;
            if (c == '\\')
            {
                Escape();
            }
        }
    }

    private void Escape()
    {
        if (AtEnd)
        {
            End("a string");
        }
        var c = Current;
        if (c != 'u')
        {
            if (!"\"\\/bfnrt".Contains((char)c, StringComparison.Ordinal))
            {
                Fail("invalid escape");
            }
            _position++;
            return;
        }
        _position++;
        var first = HexEscape();
        if (first is >= 0xDC00 and <= 0xDFFF)
        {
            FailAtPrevious("lone leading surrogate in hex escape");
        }
        if (first is >= 0xD800 and <= 0xDBFF)
        {
            // A leading surrogate must be followed by the escape of a trailing one.
            foreach (var expected in "\\u")
            {
                if (AtEnd)
                {
                    End("a string");
                }
                if (Current != expected)
                {
                    Fail("unexpected end of hex escape");
                }
                _position++;
            }
            if (HexEscape() is < 0xDC00 or > 0xDFFF)
            {
                FailAtPrevious("lone leading surrogate in hex escape");
            }
        }
    }

    private int HexEscape()
    {
        var value = 0;
        for (var i = 0; i < 4; i++)
        {
            if (AtEnd)
            {
                End("a string");
            }
            var digit = HexDigit(Current);
            if (digit < 0)
            {
                Fail("invalid escape");
            }
            value = (value << 4) | digit;
            _position++;
        }
        return value;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private void SkipWhiteSpace()
    {
        while (!AtEnd && Current is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r')
        {
            _position++;
        }
    }

    // At the byte being looked at.
    private readonly void Fail(string message) => throw Where(message, _position, offending: true);

    // At the byte just read (the last digit of an escape).
    private readonly void FailAtPrevious(string message) => throw Where(message, _position - 1, offending: true);

    // The text ended inside something: the column is the bytes read on the last line.
    private readonly void End(string what) => throw Where($"EOF while parsing {what}", _text.Length, offending: false);

    private readonly SyntaxError Where(string what, int index, bool offending)
    {
        var before = _text[..index];
        var line = before.Count((byte)'\n') + 1;
        var column = index - (before.LastIndexOf((byte)'\n') + 1) + (offending ? 1 : 0);
        return new SyntaxError(what, line, column);
    }

    private sealed class SyntaxError(string what, int line, int column) : Exception(what)
    {
        public string What => Message;

        public int Line => line;

        public int Column => column;
    }
}
