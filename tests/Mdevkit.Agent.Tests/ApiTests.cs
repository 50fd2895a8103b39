using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mdevkit.Agent.Tests;

/// <summary>The API over a simulated host: what it shows is the kernel's state, what it changes the kernel and the definitions see.</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private const string Uuid = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c001";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync(owner: nameof(ApiTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private HttpClient Client => _agent.Client;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> SendAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await Client.SendAsync(request, Cancellation);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Parents_ShowEachParentsTypesAsSysfsHasThem()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/parents");

        Assert.Equal(HttpStatusCode.OK, status);
        var mtty = Assert.Single(body.EnumerateArray(), parent => parent.GetProperty("name").GetString() == "mtty");
        foreach (var type in mtty.GetProperty("types").EnumerateArray())
        {
            var id = type.GetProperty("id").GetString();
            var available = File.ReadAllText(Path.Join(_agent.Root.Sys, $"class/mdev_bus/mtty/mdev_supported_types/{id}/available_instances")).Trim();
            Assert.Equal(available, type.GetProperty("availableInstances").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(["mbochs", "mdpy", "mtty"], body.EnumerateArray().Select(parent => parent.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("/v1/devices")]
    [InlineData("/v1/parents")]
    public async Task Listing_HasItsLengthAndTag_IsNotModifiedUnderItsTag_AndChangesWithTheHost(string path)
    {
        byte[] bytes;
        EntityTagHeaderValue tag;
        HttpResponseMessage notModified;
        // The simulator's boot events may still reach the view after the agent is up: an answer that changed in between
        // comes with another tag, and the pair is asked again.
        var attempts = 0;
        do
        {
            using var first = await Client.GetAsync(path, Cancellation);
            bytes = await first.Content.ReadAsByteArrayAsync(Cancellation);
            tag = first.Headers.ETag!;
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("application/json", first.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes.Length, first.Content.Headers.ContentLength);
            JsonDocument.Parse(bytes).Dispose();
            Assert.NotNull(tag);
            Assert.False(tag.IsWeak);

            using var again = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { IfNoneMatch = { tag } } };
            notModified = await Client.SendAsync(again, Cancellation);
            Assert.True(notModified.StatusCode == HttpStatusCode.NotModified || !Equals(notModified.Headers.ETag, tag), "an answer under the same tag");
        }
        while (notModified.StatusCode != HttpStatusCode.NotModified && ++attempts < 20);
        using var _ = notModified;
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync(Cancellation));
        Assert.Equal(tag, notModified.Headers.ETag);

        // A device made through the API is in the next answer, which has another tag.
        using var defined = await Client.PutAsync($"/v1/definitions/mtty/{Uuid}", new StringContent("""{"mdev_type":"mtty-2","start":"manual"}"""), Cancellation);
        Assert.Equal(HttpStatusCode.Created, defined.StatusCode);
        using var started = await Client.PostAsync($"/v1/devices/{Uuid}/start", null, Cancellation);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        using var changedRequest = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { IfNoneMatch = { tag } } };
        using var changed = await Client.SendAsync(changedRequest, Cancellation);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(tag, changed.Headers.ETag);
        Assert.NotEqual(bytes, await changed.Content.ReadAsByteArrayAsync(Cancellation));
    }

    [Fact]
    public async Task DefineStartStopUndefine_ChangeTheKernelAndTheDefinitions()
    {
        var device = Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{Uuid}");
        var definition = Path.Join(_agent.Root.ConfigDirectory, $"mtty/{Uuid}");

        var defined = await SendAsync(HttpMethod.Put, $"/v1/definitions/mtty/{Uuid}", """{"mdev_type":"mtty-2","start":"auto","attrs":[]}""");
        var wasDefined = File.Exists(definition);
        var started = await SendAsync(HttpMethod.Post, $"/v1/devices/{Uuid}/start");
        var ran = Directory.Exists(device);
        var stopped = await SendAsync(HttpMethod.Post, $"/v1/devices/{Uuid}/stop");
        var ranAfterStop = Directory.Exists(device);
        var undefined = await SendAsync(HttpMethod.Delete, $"/v1/definitions/mtty/{Uuid}");

        Assert.Equal(HttpStatusCode.Created, defined.Status);
        var view = Assert.Single(defined.Body.EnumerateArray());
        Assert.Equal((Uuid, "mtty", "mtty-2", false, true, true), (view.GetProperty("uuid").GetString(), view.GetProperty("parent").GetString(), view.GetProperty("type").GetString(),
            view.GetProperty("active").GetBoolean(), view.GetProperty("defined").GetBoolean(), view.GetProperty("autoStart").GetBoolean()));
        Assert.True(wasDefined);
        Assert.Equal(HttpStatusCode.OK, started.Status);
        Assert.True(Assert.Single(started.Body.EnumerateArray()).GetProperty("active").GetBoolean());
        Assert.True(ran);
        Assert.Equal(HttpStatusCode.NoContent, stopped.Status);
        Assert.False(ranAfterStop);
        Assert.Equal(HttpStatusCode.NoContent, undefined.Status);
        Assert.False(File.Exists(definition));
    }

    [Fact]
    public async Task Define_TwelveOfOneUuidAtOnce_OneWinsAndTheOthersAreRefusedWithMdevctlsWords()
    {
        var results = await Task.WhenAll(Enumerable.Range(1, 12).Select(i =>
            SendAsync(HttpMethod.Put, $"/v1/definitions/mtty/{Uuid}", $$"""{"mdev_type":"mtty-{{1 + (i % 2)}}","start":"manual"}""")));

        var winner = Assert.Single(results, result => result.Status == HttpStatusCode.Created);
        Assert.All(results.Where(result => result.Status != HttpStatusCode.Created), result =>
        {
            Assert.Equal(HttpStatusCode.Conflict, result.Status);
            Assert.Equal($"Cowardly refusing to overwrite existing config for mtty/{Uuid}", result.Body.GetProperty("detail").GetString());
        });
        var stored = File.ReadAllText(Path.Join(_agent.Root.ConfigDirectory, $"mtty/{Uuid}"));
        Assert.Contains($"\"mdev_type\": \"{Assert.Single(winner.Body.EnumerateArray()).GetProperty("type").GetString()}\"", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlanThenApply_MakesWhatThePlanPlaced()
    {
        var plan = await SendAsync(HttpMethod.Post, "/v1/plan", """[{"type":"mtty-2","count":2}]""");
        var applied = await SendAsync(HttpMethod.Post, "/v1/apply", plan.Body.GetRawText());

        Assert.Equal(HttpStatusCode.OK, plan.Status);
        Assert.Equal(["mtty", "mtty"], plan.Body.GetProperty("devices").EnumerateArray().Select(device => device.GetProperty("parent").GetString()));
        Assert.Equal(HttpStatusCode.OK, applied.Status);
        var made = applied.Body.EnumerateArray().Select(device => device.GetProperty("uuid").GetString()!).ToList();
        Assert.Equal(2, made.Count);
        Assert.All(made, uuid => Assert.True(Directory.Exists(Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{uuid}"))));
    }

    public static TheoryData<string, string, string?, int, string> BadRequests => new()
    {
        { "PUT", $"/v1/definitions/mtty/{Uuid}", """{"mdev_type":"mtty-2",""", 400, "EOF while parsing an object at line 1 column 22" },
        // mdevctl's words for a configuration without a type.
        { "PUT", $"/v1/definitions/mtty/{Uuid}", """{"start":"auto"}""", 400, "invalid json" },
        { "POST", "/v1/plan", "[]", 400, "\"request body\" is not a request: expected a non-empty array of {\"type\", \"count\"} with positive counts" },
        { "POST", $"/v1/devices/{Uuid}/stop", null, 409, $"Error removing device {Uuid}" },
        { "POST", "/v1/groups/none/start", null, 409, "Group none has no members" },
        { "GET", "/v1/nothing", null, 404, "GET /v1/nothing is not part of the API" },
        { "DELETE", "/v1/parents", null, 405, "DELETE /v1/parents is not part of the API" },
        { "GET", "/v1/parents/nosuch", null, 404, "no parent device 'nosuch'" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequest_GetsOneProblemWithStatusAndDetail(string method, string path, string? body, int status, string detail)
    {
        var answer = await SendAsync(new HttpMethod(method), path, body);

        Assert.Equal((status, "application/problem+json"), ((int)answer.Status, answer.ContentType));
        Assert.Equal((status, detail), (answer.Body.GetProperty("status").GetInt32(), answer.Body.GetProperty("detail").GetString()));
        Assert.DoesNotContain("   at ", answer.Body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_PastTheLimitOrNotUtf8_IsRefusedAndNothingIsWritten()
    {
        var huge = """{"mdev_type":"mtty-2","start":"auto","attrs":[{"x":""" + "\"" + new string('a', Api.MaxBodyLength) + "\"}]}";
        using var invalid = new ByteArrayContent([(byte)'{', 0xff, (byte)'}']);

        // A careful client asks first (Expect: 100-continue) and is refused before it sends: one that just sends
        // may find the connection closed under its write once the refusal has gone out.
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/definitions/mtty/{Uuid}") { Content = new StringContent(huge) };
        request.Headers.ExpectContinue = true;
        using var tooLarge = await Client.SendAsync(request, Cancellation);
        using var notText = await Client.PutAsync($"/v1/definitions/mtty/{Uuid}", invalid, Cancellation);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notText.StatusCode);
        Assert.Contains("not valid UTF-8", await notText.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(_agent.Root.ConfigDirectory, $"mtty/{Uuid}")));
    }
}
