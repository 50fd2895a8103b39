namespace Mdevkit.Agent;

/// <summary>
/// The dashboard: one page, its script and its style, embedded in the assembly and served from memory, so
/// the agent needs no files beside its binary and the page loads nothing from anywhere else. The
/// Content-Security-Policy holds the page to its own origin: no inline script or style, no other host.
/// </summary>
internal static class Dashboard
{
    public const string ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    // Resource name (as the project file names it) → content type; every file is read once, at startup.
    private static readonly (string Path, string Resource, string ContentType)[] s_files =
    [
        ("/dashboard/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
    ];

    public static void Map(WebApplication app)
    {
        var page = Read("index.html");
        app.MapGet("/", (HttpContext context) => Serve(context, page, "text/html; charset=utf-8"));
        app.MapGet("/dashboard", (HttpContext context) => Serve(context, page, "text/html; charset=utf-8"));
        foreach (var (path, resource, contentType) in s_files)
        {
            var content = Read(resource);
            app.MapGet(path, (HttpContext context) => Serve(context, content, contentType));
        }
    }

    private static IResult Serve(HttpContext context, byte[] content, string contentType)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // The files change only with the binary; no-cache makes a browser ask again after an upgrade.
        headers.CacheControl = "no-cache";
        return Results.Bytes(content, contentType);
    }

    private static byte[] Read(string resource)
    {
        using var stream = typeof(Dashboard).Assembly.GetManifestResourceStream($"dashboard/{resource}")
            ?? throw new InvalidOperationException($"the dashboard's {resource} is not embedded in {typeof(Dashboard).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
