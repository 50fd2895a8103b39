using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mdevkit.Management;
using Microsoft.Extensions.DependencyInjection;

namespace Mdevkit.Agent.Tests;

/// <summary>Tokens and the configuration that holds their hashes.</summary>
internal static class Tokens
{
    public const string Reader = "read-7Jq2vRkP1mXw9sLf";
    public const string Admin = "admin-Zt4hN8cQe3yBu6aD";

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A configuration listening on a free port of 127.0.0.1 with the reader's and, when asked, the admin's token.</summary>
    public static string Configuration(bool withAdmin = true, string extra = "")
    {
        var tokens = new List<string> { Entry("monitoring", "read", Reader) };
        if (withAdmin)
        {
            tokens.Add(Entry("orchestrator", "admin", Admin));
        }
        return $$"""{"listen": ["127.0.0.1:0"], {{extra}} "tokens": [{{string.Join(", ", tokens)}}]}""";
    }

    public static string Entry(string name, string role, string token) => $$"""{"name": "{{name}}", "role": "{{role}}", "sha256": "{{Hash(token)}}"}""";

    /// <summary>Writes the root's configuration file (<c>ROOT/etc/mdevkit/mdevkitd.json</c>).</summary>
    public static string Write(string root, string json)
    {
        var path = Path.Join(root, MdevkitPaths.AgentConfiguration);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }
}

/// <summary>TCP, served only with a token: 401 without one, 403 for a read token that would change something; the Unix socket as before.</summary>
public sealed class AuthorizationTests : IAsyncLifetime
{
    private const string Uuid = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c004";
    private AgentFixture _agent = null!;
    private HttpClient _tcp = null!;

    public async ValueTask InitializeAsync()
    {
        _agent = await AgentFixture.StartAsync(owner: nameof(AuthorizationTests), configure: options =>
        {
            Tokens.Write(options.Root, Tokens.Configuration());
            return options;
        });
        _tcp = new HttpClient { BaseAddress = _agent.TcpAddress };
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await _agent.DisposeAsync();
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private string Definition => Path.Join(_agent.Root.ConfigDirectory, $"mtty/{Uuid}");

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? authorization, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        return await _tcp.SendAsync(request, Cancellation);
    }

    public static TheoryData<string?, string, string> Unauthenticated => new()
    {
        { null, "Bearer realm=\"mdevkitd\"", "over TCP every request needs a bearer token (Authorization: Bearer TOKEN) or a known client certificate" },
        { "Bearer not-a-token", "Bearer realm=\"mdevkitd\", error=\"invalid_token\"", "the token is not one mdevkitd accepts" },
        { $"Bearer {Tokens.Admin}x", "Bearer realm=\"mdevkitd\", error=\"invalid_token\"", "the token is not one mdevkitd accepts" },
        { $"Basic {Tokens.Admin}", "Bearer realm=\"mdevkitd\", error=\"invalid_request\"", "the Authorization header is not \"Bearer TOKEN\"" },
        { "Bearer ", "Bearer realm=\"mdevkitd\", error=\"invalid_request\"", "the Authorization header is not \"Bearer TOKEN\"" },
    };

    [Theory]
    [MemberData(nameof(Unauthenticated))]
    public async Task Tcp_WithoutAKnownToken_Is401WithABearerChallenge_OnEveryPath(string? authorization, string challenge, string detail)
    {
        foreach (var (method, path) in new[] { ("GET", "/v1/parents"), ("GET", "/metrics"), ("GET", "/v1/nothing"), ("PUT", $"/v1/definitions/mtty/{Uuid}") })
        {
            using var answer = await SendAsync(new HttpMethod(method), path, authorization, method == "PUT" ? """{"mdev_type":"mtty-1"}""" : null);
            var problem = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Cancellation)).RootElement;

            Assert.Equal((HttpStatusCode.Unauthorized, "application/problem+json"), (answer.StatusCode, answer.Content.Headers.ContentType?.MediaType));
            Assert.Equal(challenge, answer.Headers.WwwAuthenticate.ToString());
            Assert.Equal((401, detail), (problem.GetProperty("status").GetInt32(), problem.GetProperty("detail").GetString()));
        }
        Assert.False(File.Exists(Definition));
    }

    [Fact]
    public async Task ReadToken_Reads_AndPlans_ButChangingAnythingIs403()
    {
        var bearer = $"Bearer {Tokens.Reader}";
        using var parents = await SendAsync(HttpMethod.Get, "/v1/parents", bearer);
        using var metrics = await SendAsync(HttpMethod.Get, "/metrics", bearer);
        using var plan = await SendAsync(HttpMethod.Post, "/v1/plan", bearer, """[{"type":"mtty-2","count":1}]""");
        using var define = await SendAsync(HttpMethod.Put, $"/v1/definitions/mtty/{Uuid}", bearer, """{"mdev_type":"mtty-1"}""");
        using var probe = await SendAsync(HttpMethod.Post, "/v1/parents/mtty/probe", bearer);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (parents.StatusCode, metrics.StatusCode, plan.StatusCode));
        foreach (var refused in new[] { define, probe })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("Bearer realm=\"mdevkitd\", error=\"insufficient_scope\", scope=\"admin\"", refused.Headers.WwwAuthenticate.ToString());
        }
        Assert.Equal($"'monitoring' may only read; PUT /v1/definitions/mtty/{Uuid} needs an admin credential",
            JsonDocument.Parse(await define.Content.ReadAsStringAsync(Cancellation)).RootElement.GetProperty("detail").GetString());
        Assert.False(File.Exists(Definition));
    }

    [Fact]
    public async Task AdminToken_ChangesTheHost_AndTheUnixSocketNeedsNoToken()
    {
        using var define = await SendAsync(HttpMethod.Put, $"/v1/definitions/mtty/{Uuid}", $"bearer {Tokens.Admin}", """{"mdev_type":"mtty-1","start":"manual"}""");
        using var local = await _agent.Client.DeleteAsync($"/v1/definitions/mtty/{Uuid}", Cancellation);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.NoContent), (define.StatusCode, local.StatusCode));
        Assert.False(File.Exists(Definition));
    }

    [Fact]
    public async Task Reload_TakesTheTokensOfTheFileAsItIsNow()
    {
        var bearer = $"Bearer {Tokens.Admin}";
        using var before = await SendAsync(HttpMethod.Get, "/v1/groups", bearer);
        Tokens.Write(_agent.Root.Directory, Tokens.Configuration(withAdmin: false));
        _agent.Agent.Services.GetRequiredService<ConfigurationReloader>().Reload();
        using var revoked = await SendAsync(HttpMethod.Get, "/v1/groups", bearer);
        // A file that no longer reads changes nothing.
        Tokens.Write(_agent.Root.Directory, "{\"tokens\": [");
        _agent.Agent.Services.GetRequiredService<ConfigurationReloader>().Reload();
        using var kept = await SendAsync(HttpMethod.Get, "/v1/groups", $"Bearer {Tokens.Reader}");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.OK), (before.StatusCode, revoked.StatusCode, kept.StatusCode));
    }

    [Fact]
    public async Task EventStream_NeedsAToken_AndAReadOneWillDo()
    {
        using var refused = await SendAsync(HttpMethod.Get, "/v1/events", null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Reader);
        using var stream = await _tcp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancellation);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.OK), (refused.StatusCode, stream.StatusCode));
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>What the agent refuses to start with: each told in one line that names the file and the field.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly Mdevkit.TestSupport.TempRoot _root = new(nameof(ConfigurationTests));

    public void Dispose() => _root.Dispose();

    public static TheoryData<string, string> Refused => new()
    {
        { """{"listen": ["127.0.0.1:0"]}""", "TCP is configured (127.0.0.1:0) but FILE has no tokens or clientCertificates: every TCP client must authenticate" },
        { """{"listen": ["127.0.0.1:0"], "tokens": []}""", "TCP is configured (127.0.0.1:0) but FILE has no tokens or clientCertificates: every TCP client must authenticate" },
        { """{"listen": ["localhost:9443"], "tokens": []}""", "FILE: listen[0]: \"localhost:9443\" is not an IP address and port (such as 127.0.0.1:9443 or [::]:9443)" },
        { """{"listen": ["::1"], "tokens": []}""", "FILE: listen[0]: \"::1\" is not an IP address and port (such as 127.0.0.1:9443 or [::]:9443)" },
        { """{"tokens": [{"name": "a", "role": "read", "sha256": "abc"}]}""", "FILE: tokens[0].sha256: \"abc\" is not a SHA-256 hash (64 hex digits)" },
        { """{"tokens": [{"name": "a", "role": "write", "sha256": "abc"}]}""", "\"FILE\" is not an mdevkitd configuration: the value at $.tokens[0].role does not fit at line 1 column 41" },
        { """{"tokens": [{"name": "a", "role": "read"}]}""", "\"FILE\" is not an mdevkitd configuration: the value at $.tokens[0] does not fit at line 1 column 41" },
        { """{"token": []}""", "\"FILE\" is not an mdevkitd configuration: the value at $.token does not fit at line 1 column 9" },
        { """{"listen": [""", "\"FILE\" is not an mdevkitd configuration: EOF while parsing a list at line 1 column 12" },
        { $$"""{"clientCertificates": [{"name": "a", "role": "admin", "sha256": "{{new string('A', 64)}}"}]}""", "FILE: clientCertificates need tls (a certificate and key to serve TCP with)" },
        { $$"""{"tls": {"certificate": "none.pem", "key": "none.key"}, "tokens": []}""", "FILE: tls: cannot read a PEM certificate from DIR/none.pem with its private key from DIR/none.key" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Start_WithABadConfiguration_IsRefusedInOneLine(string json, string message)
    {
        var file = Tokens.Write(_root.Path, json);

        var refused = Assert.Throws<AgentException>(() => AgentConfiguration.Load(_root.Path, null, []));

        Assert.Equal(message.Replace("FILE", file, StringComparison.Ordinal).Replace("DIR", Path.GetDirectoryName(file), StringComparison.Ordinal), refused.Message);
    }

    [Fact]
    public void ListenOnTheCommandLine_WithoutAConfiguration_IsRefused_AndAMissingConfigFileToo()
    {
        var listen = Assert.Throws<AgentException>(() => AgentConfiguration.Load(_root.Path, null, ["[::1]:9443"]));
        var missing = Assert.Throws<AgentException>(() => AgentConfiguration.Load(_root.Path, _root.Join("none.json"), []));

        Assert.Equal("TCP is configured ([::1]:9443) but the configuration has no tokens or clientCertificates: every TCP client must authenticate", listen.Message);
        Assert.Equal($"cannot read {_root.Join("none.json")}: No such file or directory", missing.Message);
    }

    [Fact]
    public void NoConfiguration_MeansTheSocketOnly()
    {
        var configuration = AgentConfiguration.Load(_root.Path, null, []);

        Assert.Equal((null, 0, true), (configuration.Path, configuration.Listen.Count, configuration.Credentials.IsEmpty));
    }
}

/// <summary>TCP with TLS: the configured certificate is served, and a pinned client certificate is a credential of its own.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private AgentFixture _agent = null!;
    private X509Certificate2 _server = null!;
    private X509Certificate2 _client = null!;
    private X509Certificate2 _stranger = null!;

    public async ValueTask InitializeAsync()
    {
        _client = SelfSigned("CN=orchestrator");
        _stranger = SelfSigned("CN=stranger");
        _agent = await AgentFixture.StartAsync(owner: nameof(TlsTests), configure: options =>
        {
            var directory = Path.Join(options.Root, "etc/mdevkit/tls");
            Directory.CreateDirectory(directory);
            _server = SelfSigned("CN=mdevkitd");
            File.WriteAllText(Path.Join(directory, "mdevkitd.crt"), _server.ExportCertificatePem());
            File.WriteAllText(Path.Join(directory, "mdevkitd.key"), _server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            // Pinned as openssl prints a fingerprint: upper case, bytes apart.
            var pin = string.Join(':', SHA256.HashData(_client.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
            Tokens.Write(options.Root, Tokens.Configuration(extra: $$"""
                "tls": {"certificate": "tls/mdevkitd.crt", "key": "{{Path.Join(directory, "mdevkitd.key")}}"},
                "clientCertificates": [{"name": "orchestrator", "role": "admin", "sha256": "{{pin}}"}],
                """));
            return options;
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _agent.DisposeAsync();
        _server.Dispose();
        _client.Dispose();
        _stranger.Dispose();
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // With its key in a form the TLS stack can use.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    // A client that trusts exactly the agent's certificate, and presents the given one.
    private HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == _server.GetCertHashString();
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        return new HttpClient(handler) { BaseAddress = _agent.TcpAddress };
    }

    [Fact]
    public async Task PinnedClientCertificate_IsAnAdmin_AStrangersIsNobody_AndTokensStillWork()
    {
        Assert.Equal("https", _agent.TcpAddress.Scheme);
        using var pinned = Client(_client);
        using var stranger = Client(_stranger);
        using var plain = Client(null);

        using var defined = await pinned.PutAsync("/v1/definitions/mtty/7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c005", new StringContent("""{"mdev_type":"mtty-1","start":"manual"}"""), Cancellation);
        using var refused = await stranger.GetAsync("/v1/parents", Cancellation);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/parents") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Reader) } };
        using var withToken = await plain.SendAsync(request, Cancellation);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Unauthorized, HttpStatusCode.OK), (defined.StatusCode, refused.StatusCode, withToken.StatusCode));
    }
}
