using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mdevkit.Management;

namespace Mdevkit.Agent;

/// <summary>What a credential may do over TCP: <see cref="Read"/> the host (GET, and <c>plan</c>), or also change it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Role>))]
public enum Role
{
    /// <summary>Reads: parents, devices, groups, events, metrics, plans.</summary>
    [JsonStringEnumMemberName("read")]
    Read,

    /// <summary>Everything, as a member of the socket's group may.</summary>
    [JsonStringEnumMemberName("admin")]
    Admin,
}

/// <summary>A token or a client certificate the agent accepts over TCP, by the SHA-256 of its text or of its DER bytes.</summary>
public sealed record CredentialEntry(string Name, Role Role, string Sha256);

/// <summary>The agent's certificate and private key, PEM files (relative paths are the configuration file's directory's).</summary>
public sealed record TlsEntry(string Certificate, string Key);

/// <summary>The configuration file as written (<c>/etc/mdevkit/mdevkitd.json</c>).</summary>
public sealed record ConfigurationFile(
    IReadOnlyList<string>? Listen = null, TlsEntry? Tls = null, IReadOnlyList<CredentialEntry>? Tokens = null, IReadOnlyList<CredentialEntry>? ClientCertificates = null);

// Strict: a misspelt or missing field is an error with its place, not a setting silently left out.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ConfigurationFile))]
internal sealed partial class ConfigurationJson : JsonSerializerContext;

/// <summary>
/// The tokens and client certificates accepted now, by hash: the configuration holds no secret, and a presented
/// token is hashed and compared with every known hash in constant time, so neither its content nor which entry it
/// matches shows in the answer's timing.
/// </summary>
internal sealed class Credentials
{
    private readonly IReadOnlyList<(string Name, Role Role, byte[] Hash)> _tokens;
    private readonly IReadOnlyList<(string Name, Role Role, byte[] Hash)> _certificates;

    public Credentials(IReadOnlyList<(string Name, Role Role, byte[] Hash)> tokens, IReadOnlyList<(string Name, Role Role, byte[] Hash)> certificates)
    {
        _tokens = tokens;
        _certificates = certificates;
    }

    public bool IsEmpty => _tokens.Count == 0 && _certificates.Count == 0;

    public bool HasCertificates => _certificates.Count > 0;

    public (string Name, Role Role)? Token(string presented) => Match(_tokens, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    public (string Name, Role Role)? Certificate(X509Certificate2 certificate) => Match(_certificates, SHA256.HashData(certificate.RawData));

    // Every entry is compared, whatever matched before.
    private static (string Name, Role Role)? Match(IReadOnlyList<(string Name, Role Role, byte[] Hash)> known, byte[] hash)
    {
        (string, Role)? found = null;
        foreach (var (name, role, expected) in known)
        {
            if (CryptographicOperations.FixedTimeEquals(expected, hash))
            {
                found = (name, role);
            }
        }
        return found;
    }
}

/// <summary>
/// The agent's configuration: the TCP addresses it listens on (from the file and <c>--listen</c>), its TLS certificate,
/// and the credentials TCP clients present. The addresses and TLS are read once, at start; <see cref="Reload"/> (on
/// SIGHUP) reads the credentials again, so a token is added or revoked without a restart.
/// </summary>
internal sealed class AgentConfiguration
{
    private const string What = "an mdevkitd configuration";
    private Credentials _credentials;

    private AgentConfiguration(string? path, IReadOnlyList<IPEndPoint> listen, X509Certificate2? certificate, Credentials credentials)
    {
        Path = path;
        Listen = listen;
        Certificate = certificate;
        _credentials = credentials;
    }

    /// <summary>The file read, or null when there is none.</summary>
    public string? Path { get; }

    public IReadOnlyList<IPEndPoint> Listen { get; }

    /// <summary>The certificate TCP clients are served with, or null for plain HTTP.</summary>
    public X509Certificate2? Certificate { get; }

    public Credentials Credentials => Volatile.Read(ref _credentials);

    /// <summary>Reads the configuration: <paramref name="path"/> when given (it must exist), else the root's, if it has one.</summary>
    /// <exception cref="AgentException">The file is not a configuration, or TCP would be open without a credential.</exception>
    public static AgentConfiguration Load(string root, string? path, IReadOnlyList<string> listen)
    {
        var file = path ?? System.IO.Path.Join(System.IO.Path.GetFullPath(root), MdevkitPaths.AgentConfiguration);
        if (path is null && !File.Exists(file))
        {
            file = null;
        }
        var read = file is null ? new ConfigurationFile() : Read(file);
        var where = file ?? "the configuration";
        var addresses = (read.Listen ?? []).Select((address, index) => Address(address, $"{where}: listen[{index}]"))
            .Concat(listen.Select(address => Address(address, "--listen"))).ToList();
        var credentials = CredentialsOf(read, where);
        if (addresses.Count > 0 && credentials.IsEmpty)
        {
            throw new AgentException($"TCP is configured ({string.Join(", ", addresses)}) but {where} has no tokens or clientCertificates: "
                + "every TCP client must authenticate");
        }
        if (credentials.HasCertificates && read.Tls is null)
        {
            throw new AgentException($"{where}: clientCertificates need tls (a certificate and key to serve TCP with)");
        }
        return new AgentConfiguration(file, addresses, read.Tls is { } tls ? LoadCertificate(tls, file!) : null, credentials);
    }

    /// <summary>Reads the credentials again; a file that no longer reads leaves the ones in use as they are.</summary>
    /// <exception cref="AgentException">The file is not a configuration any more, or it would leave TCP without a credential.</exception>
    public void Reload()
    {
        if (Path is null)
        {
            return;
        }
        var credentials = CredentialsOf(Read(Path), Path);
        if (Listen.Count > 0 && credentials.IsEmpty)
        {
            throw new AgentException($"{Path} has no tokens or clientCertificates any more, and TCP is open: kept the ones in use");
        }
        Volatile.Write(ref _credentials, credentials);
    }

    private static ConfigurationFile Read(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"cannot read {file}: {Mdevkit.Sysfs.SysfsException.Describe(Mdevkit.Sysfs.SysfsException.ToErrno(e))}");
        }
        try
        {
            return JsonSyntax.Deserialize(text, ConfigurationJson.Default.ConfigurationFile, What, file);
        }
        catch (InvalidInputException invalid)
        {
            throw new AgentException(invalid.Message);
        }
    }

    // An IP address and a port, IPv6 in brackets: the parser alone would take "::1" or "10.0.0.1" as port 0.
    private static IPEndPoint Address(string text, string where)
    {
        var hasPort = text.StartsWith('[') ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;
        return hasPort && IPEndPoint.TryParse(text, out var endpoint)
            ? endpoint
            : throw new AgentException($"{where}: \"{text}\" is not an IP address and port (such as 127.0.0.1:9443 or [::]:9443)");
    }

    private static Credentials CredentialsOf(ConfigurationFile read, string where) => new(
        [.. (read.Tokens ?? []).Select((entry, index) => Entry(entry, $"{where}: tokens[{index}]"))],
        [.. (read.ClientCertificates ?? []).Select((entry, index) => Entry(entry, $"{where}: clientCertificates[{index}]"))]);

    // 64 hex digits, in either case, with or without the colons openssl prints between bytes.
    private static (string Name, Role Role, byte[] Hash) Entry(CredentialEntry entry, string where)
    {
        var hex = entry.Sha256.Replace(":", "", StringComparison.Ordinal);
        if (hex.Length != 2 * SHA256.HashSizeInBytes || !hex.All(char.IsAsciiHexDigit))
        {
            throw new AgentException($"{where}.sha256: \"{entry.Sha256}\" is not a SHA-256 hash (64 hex digits)");
        }
        return (entry.Name, entry.Role, Convert.FromHexString(hex));
    }

    private static X509Certificate2 LoadCertificate(TlsEntry tls, string file)
    {
        // Relative to the configuration's directory; an absolute path stays as it is.
        var directory = System.IO.Path.GetDirectoryName(file)!;
        var (certificate, key) = (System.IO.Path.Combine(directory, tls.Certificate), System.IO.Path.Combine(directory, tls.Key));
        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new AgentException($"{file}: tls: cannot read a PEM certificate from {certificate} with its private key from {key}");
        }
    }
}
