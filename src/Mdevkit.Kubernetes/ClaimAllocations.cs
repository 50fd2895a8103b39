using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Mdevkit.Kubernetes;

/// <summary>
/// What the API server says was allocated to a claim on this node: the claim's results for this driver and this node's
/// pool, each looked up in the node's ResourceSlices for the mdev parent and type the device stands for.
/// </summary>
public sealed class ClaimAllocations(IKubernetes client, string nodeName)
{
    /// <summary>The claim's generation and its devices here.</summary>
    /// <exception cref="ClaimException">The claim is gone, has another UID, is not allocated here, or names a device no slice has.</exception>
    public async Task<(long Generation, IReadOnlyList<AllocatedDevice> Devices)> ReadAsync(ClaimRef claim, CancellationToken cancellation)
    {
        var resource = await Call(claim, "reading it", () => client.ResourceV1.ReadNamespacedResourceClaimAsync(claim.Name, claim.Namespace, cancellationToken: cancellation));
        if (resource.Metadata?.Uid != claim.Uid)
        {
            throw new ClaimException($"{claim} has UID {resource.Metadata?.Uid}, not {claim.Uid}: it was deleted and made again");
        }
        var results = resource.Status?.Allocation?.Devices?.Results
            ?? throw new ClaimException($"{claim} is not allocated");
        var ours = results.Where(result => result.Driver == DraNames.Driver).ToList();
        if (ours.Count == 0)
        {
            throw new ClaimException($"{claim} has no device of the driver {DraNames.Driver}");
        }
        if (ours.Find(result => result.Pool != nodeName) is { } elsewhere)
        {
            throw new ClaimException($"{claim}: device {elsewhere.Device} is in pool {elsewhere.Pool}, not in this node's pool {nodeName}");
        }
        var slices = await Call(claim, "listing this node's ResourceSlices", () => client.ResourceV1.ListResourceSliceAsync(
            fieldSelector: $"spec.driver={DraNames.Driver},spec.nodeName={nodeName}", cancellationToken: cancellation));
        var devices = slices.Items
            .Where(slice => slice.Spec.Pool?.Name == nodeName)
            .SelectMany(slice => slice.Spec.Devices ?? [])
            .GroupBy(device => device.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First(), StringComparer.Ordinal);
        return (resource.Metadata.Generation ?? 0, [.. ours.Select(result => Describe(claim, result, devices))]);
    }

    private static AllocatedDevice Describe(ClaimRef claim, V1DeviceRequestAllocationResult result, Dictionary<string, V1Device> devices)
    {
        if (!devices.TryGetValue(result.Device, out var device))
        {
            throw new ClaimException($"{claim}: device {result.Device} is in none of this node's ResourceSlices");
        }
        string Attribute(string name) =>
            (device.Attributes?.TryGetValue(name, out var value) == true || device.Attributes?.TryGetValue($"{DraNames.Driver}/{name}", out value) == true)
            && value?.StringValue is { Length: > 0 } text
                ? text
                : throw new ClaimException($"{claim}: device {result.Device} has no string attribute {name} in its ResourceSlice");
        return new AllocatedDevice(result.Request, result.Pool, result.Device, Attribute(DraNames.ParentAttribute), Attribute(DraNames.TypeAttribute));
    }

    /// <summary>The message of the API server's Status body, or the body itself when it is none.</summary>
    internal static string? StatusMessage(string? body)
    {
        try
        {
            return string.IsNullOrEmpty(body) ? null : System.Text.Json.JsonSerializer.Deserialize(body, StatusSourceGenerationContext.Default.V1Status)?.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    // The API server's refusal (a Status body) in one line.
    private static async Task<T> Call<T>(ClaimRef claim, string what, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            var reason = StatusMessage(e.Response?.Content) ?? e.Message;
            throw new ClaimException($"{claim}: the API server refused {what}: {(int?)e.Response?.StatusCode} {reason}", e);
        }
        catch (HttpRequestException e)
        {
            throw new ClaimException($"{claim}: the API server could not be reached for {what}: {e.Message}", e);
        }
    }
}
