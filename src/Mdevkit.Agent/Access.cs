using Microsoft.Net.Http.Headers;

namespace Mdevkit.Agent;

/// <summary>Marks an endpoint that reads although its method is not GET (<c>plan</c>).</summary>
internal sealed record RequiredRole(Role Role);

/// <summary>
/// Who may do what. On the Unix socket the socket file's mode and group decide, as for any local service; over TCP
/// every request carries a bearer token or a pinned client certificate, and a read credential may only read:
/// no credential or an unknown one is 401 (with <c>WWW-Authenticate: Bearer</c>), too weak a one 403.
/// </summary>
internal static class Access
{
    private const string Challenge = "Bearer realm=\"mdevkitd\"";

    /// <summary>The role an endpoint needs: its <see cref="RequiredRole"/>, else read for GET and HEAD and admin for the rest.</summary>
    public static Role Needed(Endpoint? endpoint, string method) =>
        endpoint?.Metadata.GetMetadata<RequiredRole>()?.Role ?? (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? Role.Read : Role.Admin);

    public static Func<HttpContext, Func<Task>, Task> Middleware(AgentConfiguration configuration) => async (context, next) =>
    {
        // The Unix socket has no IP address: its file's permissions were the check.
        if (context.Connection.LocalIpAddress is null)
        {
            await next();
            return;
        }
        var credentials = configuration.Credentials;
        (string Name, Role Role)? who;
        string? authorization = context.Request.Headers.Authorization;
        if (authorization is not null)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length <= "Bearer ".Length)
            {
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, Challenge + ", error=\"invalid_request\"", "the Authorization header is not \"Bearer TOKEN\"");
                return;
            }
            if ((who = credentials.Token(authorization["Bearer ".Length..].Trim())) is null)
            {
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, Challenge + ", error=\"invalid_token\"", "the token is not one mdevkitd accepts");
                return;
            }
        }
        else if (context.Connection.ClientCertificate is not { } certificate || (who = credentials.Certificate(certificate)) is null)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, Challenge, "over TCP every request needs a bearer token (Authorization: Bearer TOKEN) or a known client certificate");
            return;
        }
        var needed = Needed(context.GetEndpoint(), context.Request.Method);
        if (needed == Role.Admin && who.Value.Role != Role.Admin)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, Challenge + ", error=\"insufficient_scope\", scope=\"admin\"",
                $"'{who.Value.Name}' may only read; {context.Request.Method} {context.Request.Path} needs an admin credential");
            return;
        }
        await next();
    };

    private static Task RefuseAsync(HttpContext context, int status, string challenge, string detail)
    {
        context.Response.Headers[HeaderNames.WWWAuthenticate] = challenge;
        return Problems.Result(status, detail).ExecuteAsync(context);
    }
}
