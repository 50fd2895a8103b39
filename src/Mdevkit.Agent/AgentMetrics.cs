using Mdevkit.Management;
using Prometheus;

namespace Mdevkit.Agent;

/// <summary>
/// What <c>/metrics</c> exports, in Prometheus' text format: the host's offer and devices, read when scraped
/// (label sets of parents and types that are gone are dropped), and the API's own requests.
/// </summary>
internal sealed class AgentMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly ManagedHost _host;
    private readonly Gauge _available;
    private readonly Gauge _devices;
    private readonly Gauge _scrapeErrors;
    private readonly Histogram _requests;

    public AgentMetrics(ManagedHost host)
    {
        _host = host;
        // The process's own figures (memory, GC, threads), as every .NET exporter shows them.
        DotNetStats.Register(_registry);
        var factory = Metrics.WithCustomRegistry(_registry);
        _available = factory.CreateGauge("mdevkit_available_instances", "Devices of a type a parent can still create, as its available_instances says.", "parent", "type");
        _devices = factory.CreateGauge("mdevkit_devices", "Devices per parent and type: active (running now) or defined (persistent definitions).", "parent", "type", "state");
        _scrapeErrors = factory.CreateGauge("mdevkit_scrape_error", "1 when the last scrape could not read the host (sysfs or the definitions), else 0.");
        _requests = factory.CreateHistogram("mdevkitd_request_duration_seconds", "API requests by method, route and status, with their latency.",
            new HistogramConfiguration { LabelNames = ["method", "route", "status"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        _registry.AddBeforeCollectCallback(Refresh);
    }

    /// <summary>Records one finished request.</summary>
    public void Observe(string method, string route, int status, TimeSpan duration) =>
        _requests.WithLabels(method, route, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Observe(duration.TotalSeconds);

    public Task WriteAsync(Stream output, CancellationToken cancellation) => _registry.CollectAndExportAsTextAsync(output, cancellation);

    private void Refresh()
    {
        try
        {
            var available = _host.Inventory.Types().SelectMany(parent => parent.Types.Select(type => (Labels: new[] { parent.Parent, type.Id }, Value: (double)type.AvailableInstances)));
            var devices = _host.Inventory.Active().Select(device => (device.Parent, device.Config.MdevType, State: "active"))
                .Concat(_host.Inventory.Defined().Select(device => (device.Parent, device.Config.MdevType, State: "defined")))
                .CountBy(device => device)
                .Select(pair => (Labels: new[] { pair.Key.Parent, pair.Key.MdevType, pair.Key.State }, Value: (double)pair.Value));
            Replace(_available, available);
            Replace(_devices, devices);
            _scrapeErrors.Set(0);
        }
        catch (MdevctlException)
        {
            // The figures of the last good scrape stay; the gauge says they are old.
            _scrapeErrors.Set(1);
        }
    }

    // Sets every label set that exists now and drops the ones that no longer do (an unplugged parent, a type that vanished).
    private static void Replace(Gauge gauge, IEnumerable<(string[] Labels, double Value)> values)
    {
        var current = values.ToList();
        var keep = current.Select(value => string.Join('\0', value.Labels)).ToHashSet(StringComparer.Ordinal);
        foreach (var labels in gauge.GetAllLabelValues().Where(labels => !keep.Contains(string.Join('\0', labels))).ToList())
        {
            gauge.RemoveLabelled(labels);
        }
        foreach (var (labels, value) in current)
        {
            gauge.WithLabels(labels).Set(value);
        }
    }
}
