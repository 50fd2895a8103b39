using System.Text.Json;
using System.Text.RegularExpressions;
using Mdevkit.Management;
using Mdevkit.Management.Events;
using Mdevkit.Management.Planning;
using Mdevkit.Management.Reconcile;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// The OpenAPI document (docs/openapi.json) cannot drift: the agent serves that very file, every endpoint it maps is in
/// it with the role it needs and nothing else is, and its schemas name the properties the bodies have.
/// </summary>
public sealed partial class OpenApiTests : IAsyncLifetime
{
    private AgentFixture _agent = null!;
    private JsonElement _document;

    public async ValueTask InitializeAsync()
    {
        _agent = await AgentFixture.StartAsync(owner: nameof(OpenApiTests));
        _document = JsonDocument.Parse(await File.ReadAllBytesAsync(CheckedIn, TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static string CheckedIn
    {
        get
        {
            var directory = AppContext.BaseDirectory;
            while (!File.Exists(Path.Join(directory, "mdevkit.slnx")))
            {
                directory = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(directory)) ?? throw new InvalidOperationException("mdevkit.slnx not found above the test output");
            }
            return Path.Join(directory, "docs/openapi.json");
        }
    }

    [Fact]
    public async Task Served_IsTheCheckedInDocument()
    {
        using var answer = await _agent.Client.GetAsync("/v1/openapi.json", TestContext.Current.CancellationToken);

        Assert.Equal("application/json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(CheckedIn, TestContext.Current.CancellationToken), await answer.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void EveryMappedEndpoint_IsDocumented_WithTheRoleItNeeds_AndNothingElseIs()
    {
        var mapped = _agent.Agent.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(method =>
                (Operation: $"{method} {Constraint().Replace(endpoint.RoutePattern.RawText!, "{$1}")}", Role: Access.Needed(endpoint, method).ToString().ToUpperInvariant())))
            .OrderBy(operation => operation.Operation, StringComparer.Ordinal).ToList();
        var documented = _document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation =>
                (Operation: $"{operation.Name.ToUpperInvariant()} {path.Name}", Role: operation.Value.GetProperty("x-mdevkit-role").GetString()!.ToUpperInvariant())))
            .OrderBy(operation => operation.Operation, StringComparer.Ordinal).ToList();

        Assert.Equal(mapped, documented);
        Assert.Contains(("POST /v1/plan", "READ"), mapped);
    }

    public static TheoryData<string, Type> Bodies => new()
    {
        { "ParentView", typeof(ParentView) }, { "TypeView", typeof(TypeView) }, { "CapacityModel", typeof(CapacityModel) },
        { "TypeCapacity", typeof(TypeCapacity) }, { "DeviceView", typeof(DeviceView) }, { "DeviceHolder", typeof(DeviceHolder) }, { "AttributeView", typeof(AttributeView) },
        { "GroupView", typeof(GroupView) }, { "Problem", typeof(ProblemView) }, { "Plan", typeof(Plan) }, { "PlannedDevice", typeof(PlannedDevice) },
        { "UnplacedDevices", typeof(UnplacedDevices) }, { "ParentOffer", typeof(ParentOffer) }, { "MadeDevice", typeof(MadeDevice) },
        { "AgentEvent", typeof(AgentEvent) }, { "ReconcileView", typeof(ReconcileView) }, { "ReconcileAction", typeof(ReconcileAction) },
        { "ReconcileDrift", typeof(ReconcileDrift) },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Schema_NamesTheProperties_TheAgentWrites(string schema, Type type)
    {
        var documented = _document.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        var properties = documented.GetProperty("properties").EnumerateObject().Select(property => property.Name).ToList();

        Assert.Equal(AgentJson.Default.GetTypeInfo(type)!.Properties.Select(property => property.Name).Order(StringComparer.Ordinal), properties.Order(StringComparer.Ordinal));
        Assert.All(documented.GetProperty("required").EnumerateArray(), required => Assert.Contains(required.GetString(), properties));
    }

    [Fact]
    public void EveryReference_LeadsToASchema()
    {
        var schemas = _document.GetProperty("components").GetProperty("schemas");
        var references = Reference().Matches(_document.GetRawText()).Select(match => match.Groups[1].Value).Distinct().ToList();

        Assert.NotEmpty(references);
        Assert.All(references, name => Assert.True(schemas.TryGetProperty(name, out _), $"no schema {name}"));
    }

    // A route parameter's constraint ({uuid:guid}) is no part of an OpenAPI path.
    [GeneratedRegex(@"\{(\w+)(:[^}]*)?\}")]
    private static partial Regex Constraint();

    [GeneratedRegex("\"\\$ref\": \"#/components/schemas/(\\w+)\"")]
    private static partial Regex Reference();
}
