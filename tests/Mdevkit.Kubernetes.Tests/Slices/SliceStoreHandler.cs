using System.Net;
using System.Text;
using System.Web;
using k8s;
using k8s.Models;

namespace Mdevkit.Kubernetes.Tests.Slices;

/// <summary>
/// The ResourceSlice endpoints of <c>resource.k8s.io/v1</c> at the HTTP boundary of the client: list with a field
/// selector on <c>spec.driver</c> and <c>spec.nodeName</c>, create (409 on a taken name), replace (409 on a stale
/// resourceVersion) and delete, over the JSON the client sends and reads. It stands in for the API server in the
/// publisher's tests; every request's method is kept for the tests to count writes.
/// </summary>
internal sealed class SliceStoreHandler : DelegatingHandler
{
    private const string Collection = "/apis/resource.k8s.io/v1/resourceslices";
    private int _version;

    public Dictionary<string, V1ResourceSlice> Slices { get; } = [];

    public List<string> Methods { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await Answer(request, cancellationToken);
        response.RequestMessage = request;
        return response;
    }

    private async Task<HttpResponseMessage> Answer(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        var name = path.StartsWith(Collection + "/", StringComparison.Ordinal) ? path[(Collection.Length + 1)..] : null;
        Methods.Add(request.Method.Method);
        var body = request.Content is null ? null : KubernetesJson.Deserialize<V1ResourceSlice>(await request.Content.ReadAsStringAsync(cancellationToken));
        switch (request.Method.Method, name)
        {
            case ("GET", null):
                var selector = HttpUtility.ParseQueryString(request.RequestUri.Query)["fieldSelector"] ?? "";
                var fields = selector.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(field => field.Split('=', 2)).ToDictionary(field => field[0], field => field[1]);
                var items = Slices.Values.Where(slice => fields.All(field => field.Key switch
                {
                    "spec.driver" => slice.Spec.Driver == field.Value,
                    "spec.nodeName" => slice.Spec.NodeName == field.Value,
                    _ => throw new InvalidOperationException($"unsupported field selector {field.Key}"),
                })).ToList();
                return Answer(HttpStatusCode.OK, new V1ResourceSliceList { ApiVersion = "resource.k8s.io/v1", Kind = "ResourceSliceList", Items = items, Metadata = new V1ListMeta() });
            case ("POST", null) when body is not null:
                if (Slices.ContainsKey(body.Metadata.Name))
                {
                    return new HttpResponseMessage(HttpStatusCode.Conflict);
                }
                return Store(HttpStatusCode.Created, body);
            case ("PUT", { } replaced) when body is not null:
                return Slices.TryGetValue(replaced, out var current) && current.Metadata.ResourceVersion == body.Metadata.ResourceVersion && body.Metadata.Name == replaced
                    ? Store(HttpStatusCode.OK, body)
                    : new HttpResponseMessage(HttpStatusCode.Conflict);
            case ("DELETE", { } deleted):
                return Slices.Remove(deleted, out var gone) ? Answer(HttpStatusCode.OK, gone) : new HttpResponseMessage(HttpStatusCode.NotFound);
            default:
                return new HttpResponseMessage(HttpStatusCode.MethodNotAllowed);
        }
    }

    private HttpResponseMessage Store(HttpStatusCode status, V1ResourceSlice slice)
    {
        slice.Metadata.ResourceVersion = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Slices[slice.Metadata.Name] = slice;
        return Answer(status, slice);
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, object value) =>
        new(status) { Content = new StringContent(KubernetesJson.Serialize(value), Encoding.UTF8, "application/json") };
}
