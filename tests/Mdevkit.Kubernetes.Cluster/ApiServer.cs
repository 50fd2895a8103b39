using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// An API server double: the few <c>resource.k8s.io/v1</c> endpoints the DRA driver uses, over real HTTP on a loopback
/// port, in the Kubernetes JSON shapes (KubernetesClient's own models and serializer), so the driver's client code runs
/// unmodified against it. ResourceSlices: create, get, replace (with <c>resourceVersion</c> conflicts), delete, and list
/// with <c>fieldSelector</c> on <c>spec.nodeName</c>, <c>spec.driver</c> and <c>metadata.name</c>; every slice written
/// is checked against the API's rules that matter (<see cref="ApiServerValidation"/>). ResourceClaims: get; the test
/// puts them, with their <c>status.allocation</c>, through <see cref="PutClaim"/>. Nodes: get (the owner of a node's
/// slices); the test puts them through <see cref="PutNode"/>. Refusals are 4xx with a <c>Status</c> body.
/// </summary>
/// <remarks>
/// Not reproduced: authentication and authorization (RBAC, the node authorizer that limits a kubelet plugin to its own
/// node's slices), admission, watch, label selectors, list pagination (<c>limit</c>/<c>continue</c>), patch and apply,
/// <c>deletecollection</c>, garbage collection (owner references are stored, never acted on), every other field of a Node, the <c>DeviceClass</c> and claim-template
/// endpoints, claim status writes by the scheduler, feature gates (every field the models know is accepted), CEL
/// validation of selectors, and the rules of fields the driver does not use (taints, binding conditions, per-device node
/// selection beyond its exclusivity).
/// </remarks>
public sealed class ApiServer : IAsyncDisposable
{
    private const string Group = "/apis/resource.k8s.io/v1";
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, V1ResourceSlice> _slices = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Name), Resourcev1ResourceClaim> _claims = [];
    private readonly Dictionary<string, V1Node> _nodes = new(StringComparer.Ordinal);
    private long _resourceVersion;

    private ApiServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Where it listens: <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri Address => new(_app.Urls.Single());

    /// <summary>Starts it on a free loopback port.</summary>
    public static async Task<ApiServer> StartAsync(CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));
        var server = new ApiServer(builder.Build());
        server.Map();
        await server._app.StartAsync(cancellation);
        return server;
    }

    /// <summary>The slices stored now, by name.</summary>
    public IReadOnlyList<V1ResourceSlice> Slices
    {
        get
        {
            lock (_gate)
            {
                return [.. _slices.Values.OrderBy(slice => slice.Metadata.Name, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Stores a slice as a client's create would (checked the same way); returns it as stored.</summary>
    /// <exception cref="InvalidOperationException">The API would refuse it.</exception>
    public V1ResourceSlice PutSlice(V1ResourceSlice slice)
    {
        var (status, stored) = Create(slice);
        return stored ?? throw new InvalidOperationException(status.Message);
    }

    /// <summary>Stores (or replaces) a claim, as the scheduler leaves it after allocating; a UID is given when it has none.</summary>
    public Resourcev1ResourceClaim PutClaim(Resourcev1ResourceClaim claim)
    {
        lock (_gate)
        {
            claim.ApiVersion = "resource.k8s.io/v1";
            claim.Kind = "ResourceClaim";
            claim.Metadata.Uid ??= Guid.NewGuid().ToString();
            claim.Metadata.Generation ??= 1;
            claim.Metadata.ResourceVersion = NextVersion();
            _claims[(claim.Metadata.NamespaceProperty, claim.Metadata.Name)] = claim;
            return claim;
        }
    }

    /// <summary>Stores a Node object as a kubelet's registration makes it (name and UID only); returns it.</summary>
    public V1Node PutNode(string name)
    {
        lock (_gate)
        {
            var node = new V1Node
            {
                ApiVersion = "v1",
                Kind = "Node",
                Metadata = new V1ObjectMeta { Name = name, Uid = Guid.NewGuid().ToString(), ResourceVersion = NextVersion() },
            };
            _nodes[name] = node;
            return node;
        }
    }

    /// <summary>Deletes a Node object, as its removal from the cluster does.</summary>
    public void DeleteNode(string name)
    {
        lock (_gate)
        {
            _nodes.Remove(name);
        }
    }

    /// <summary>Deletes a driver's slices of a node, as the kubelet does when the driver's plugin goes away.</summary>
    public void DeleteSlices(string driver, string nodeName)
    {
        lock (_gate)
        {
            foreach (var name in _slices.Values.Where(slice => slice.Spec.Driver == driver && slice.Spec.NodeName == nodeName).Select(slice => slice.Metadata.Name).ToList())
            {
                _slices.Remove(name);
            }
        }
    }

    /// <summary>Deletes a claim, as its pod's end does.</summary>
    public void DeleteClaim(string claimNamespace, string name)
    {
        lock (_gate)
        {
            _claims.Remove((claimNamespace, name));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map()
    {
        _app.MapGet($"{Group}/resourceslices", (HttpContext context) => List(context.Request.Query["fieldSelector"].ToString()));
        _app.MapPost($"{Group}/resourceslices", async (HttpContext context) =>
        {
            if (await ReadAsync<V1ResourceSlice>(context) is not { } slice)
            {
                return Refuse(Malformed());
            }
            var (status, stored) = Create(slice);
            return stored is null ? Refuse(status) : Json(stored, StatusCodes.Status201Created);
        });
        _app.MapGet($"{Group}/resourceslices/{{name}}", (string name) =>
        {
            lock (_gate)
            {
                return _slices.TryGetValue(name, out var slice) ? Json(slice) : Refuse(NotFound("resourceslices", name));
            }
        });
        _app.MapPut($"{Group}/resourceslices/{{name}}", async (string name, HttpContext context) =>
            await ReadAsync<V1ResourceSlice>(context) is { } slice ? Replace(name, slice) : Refuse(Malformed()));
        _app.MapDelete($"{Group}/resourceslices/{{name}}", (string name) =>
        {
            lock (_gate)
            {
                return _slices.Remove(name, out var slice) ? Json(slice) : Refuse(NotFound("resourceslices", name));
            }
        });
        _app.MapGet($"{Group}/namespaces/{{ns}}/resourceclaims/{{name}}", (string ns, string name) =>
        {
            lock (_gate)
            {
                return _claims.TryGetValue((ns, name), out var claim) ? Json(claim) : Refuse(NotFound("resourceclaims", name));
            }
        });
        _app.MapGet("/api/v1/nodes/{name}", (string name) =>
        {
            lock (_gate)
            {
                return _nodes.TryGetValue(name, out var node) ? Json(node) : Refuse(Failure(StatusCodes.Status404NotFound, "NotFound", $"nodes \"{name}\" not found"));
            }
        });
        // Anything else is an endpoint the double does not have, said as the API server says it.
        _app.MapFallback((HttpContext context) => Refuse(Failure(StatusCodes.Status404NotFound, "NotFound", $"the server could not find the requested resource ({context.Request.Method} {context.Request.Path})")));
    }

    private IResult List(string fieldSelector)
    {
        var selector = ApiServerValidation.ParseFieldSelector(fieldSelector, out var problem);
        if (selector is null)
        {
            return Refuse(Failure(StatusCodes.Status400BadRequest, "BadRequest", problem!));
        }
        lock (_gate)
        {
            var items = _slices.Values.Where(slice => selector.All(field => Field(slice, field.Key) == field.Value)).OrderBy(slice => slice.Metadata.Name, StringComparer.Ordinal);
            return Json(new V1ResourceSliceList
            {
                ApiVersion = "resource.k8s.io/v1",
                Kind = "ResourceSliceList",
                Items = [.. items],
                Metadata = new V1ListMeta { ResourceVersion = _resourceVersion.ToString(CultureInfo.InvariantCulture) },
            });
        }
    }

    private static string? Field(V1ResourceSlice slice, string field) => field switch
    {
        "spec.nodeName" => slice.Spec.NodeName ?? "",
        "spec.driver" => slice.Spec.Driver,
        "metadata.name" => slice.Metadata.Name,
        _ => null,
    };

    private (V1Status Status, V1ResourceSlice? Stored) Create(V1ResourceSlice slice)
    {
        if (ApiServerValidation.Validate(slice) is { } invalid)
        {
            return (Failure(StatusCodes.Status422UnprocessableEntity, "Invalid", $"ResourceSlice.resource.k8s.io \"{slice.Metadata?.Name}\" is invalid: {invalid}"), null);
        }
        lock (_gate)
        {
            if (_slices.ContainsKey(slice.Metadata.Name))
            {
                return (Failure(StatusCodes.Status409Conflict, "AlreadyExists", $"resourceslices.resource.k8s.io \"{slice.Metadata.Name}\" already exists"), null);
            }
            slice.Metadata.Uid = Guid.NewGuid().ToString();
            slice.Metadata.Generation = 1;
            slice.Metadata.CreationTimestamp = DateTime.UtcNow;
            return (Success(), Store(slice));
        }
    }

    private IResult Replace(string name, V1ResourceSlice slice)
    {
        if (slice.Metadata?.Name != name)
        {
            return Refuse(Failure(StatusCodes.Status400BadRequest, "BadRequest", $"the name of the object ({slice.Metadata?.Name}) does not match the name on the URL ({name})"));
        }
        if (ApiServerValidation.Validate(slice) is { } invalid)
        {
            return Refuse(Failure(StatusCodes.Status422UnprocessableEntity, "Invalid", $"ResourceSlice.resource.k8s.io \"{name}\" is invalid: {invalid}"));
        }
        lock (_gate)
        {
            if (!_slices.TryGetValue(name, out var current))
            {
                return Refuse(NotFound("resourceslices", name));
            }
            if (slice.Metadata.ResourceVersion is { Length: > 0 } version && version != current.Metadata.ResourceVersion)
            {
                return Refuse(Failure(StatusCodes.Status409Conflict, "Conflict",
                    $"Operation cannot be fulfilled on resourceslices.resource.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
            }
            slice.Metadata.Uid = current.Metadata.Uid;
            slice.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
            var specChanged = KubernetesJson.Serialize(slice.Spec) != KubernetesJson.Serialize(current.Spec);
            slice.Metadata.Generation = current.Metadata.Generation + (specChanged ? 1 : 0);
            return Json(Store(slice));
        }
    }

    private V1ResourceSlice Store(V1ResourceSlice slice)
    {
        slice.ApiVersion = "resource.k8s.io/v1";
        slice.Kind = "ResourceSlice";
        slice.Metadata.ResourceVersion = NextVersion();
        _slices[slice.Metadata.Name] = slice;
        return slice;
    }

    private string NextVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static async Task<T?> ReadAsync<T>(HttpContext context)
        where T : class
    {
        using var reader = new StreamReader(context.Request.Body);
        try
        {
            return KubernetesJson.Deserialize<T>(await reader.ReadToEndAsync(context.RequestAborted));
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static V1Status Malformed() => Failure(StatusCodes.Status400BadRequest, "BadRequest", "the body is not a ResourceSlice in JSON");

    private static IResult Json(object value, int status = StatusCodes.Status200OK) =>
        Results.Text(KubernetesJson.Serialize(value), "application/json", statusCode: status);

    // Status has its own source-generated context in the client; the models' one does not know it.
    private static IResult Refuse(V1Status status) =>
        Results.Text(System.Text.Json.JsonSerializer.Serialize(status, StatusSourceGenerationContext.Default.V1Status), "application/json", statusCode: status.Code ?? StatusCodes.Status400BadRequest);

    private static V1Status NotFound(string resource, string name) =>
        Failure(StatusCodes.Status404NotFound, "NotFound", $"{resource}.resource.k8s.io \"{name}\" not found");

    private static V1Status Success() => new() { Status = "Success" };

    private static V1Status Failure(int code, string reason, string message) =>
        new() { ApiVersion = "v1", Kind = "Status", Status = "Failure", Code = code, Reason = reason, Message = message, Metadata = new V1ListMeta() };
}
