using Mdevkit.Management;
using Microsoft.AspNetCore.Diagnostics;

namespace Mdevkit.Agent;

/// <summary>A request the API refuses before it reaches Management (a body that is not text, say).</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>
/// Every failure as a problem-details body with a status, never a stack trace: bad input as 400 (or the
/// server's own 4xx, such as 413 for a body past the limit), Management's refusals as 409 with mdevctl's
/// message and causes, anything unexpected as 500 with the details left to the log.
/// </summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static IResult Result(int status, string detail, IReadOnlyList<string>? causes = null) =>
        TypedResults.Json(View(status, detail, causes), AgentJson.Default.ProblemView, ContentType, status);

    public static ProblemView View(int status, string detail, IReadOnlyList<string>? causes = null) =>
        new("about:blank", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), status, detail, causes is { Count: > 0 } ? causes : null);

    /// <summary>Turns the failures an endpoint can expect into their answers; anything else goes on to the 500 handler.</summary>
    public static async ValueTask<object?> ExpectedFailures(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (InvalidInputException invalid)
        {
            return Result(StatusCodes.Status400BadRequest, invalid.Message, invalid.Causes);
        }
        catch (MdevctlException refused)
        {
            // The host's state refused it (already defined, not running, no room): as mdevctl says it.
            return Result(StatusCodes.Status409Conflict, refused.Message, refused.Causes);
        }
        catch (BadRequestException bad)
        {
            return Result(StatusCodes.Status400BadRequest, bad.Message);
        }
        catch (BadHttpRequestException bad)
        {
            return Result(bad.StatusCode, bad.Message);
        }
    }

    /// <summary>The answer to an unexpected failure, which the exception handler middleware has logged.</summary>
    public static Task InternalErrorAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return context.Response.WriteAsJsonAsync(
            View(StatusCodes.Status500InternalServerError, "internal error in mdevkitd; its log has the details"), AgentJson.Default.ProblemView, ContentType);
    }

    /// <summary>A route that does not exist, or a method a route does not take.</summary>
    public static Task NotPartOfTheApiAsync(StatusCodeContext context)
    {
        var (request, response) = (context.HttpContext.Request, context.HttpContext.Response);
        return response.WriteAsJsonAsync(View(response.StatusCode, $"{request.Method} {request.Path} is not part of the API"), AgentJson.Default.ProblemView, ContentType);
    }
}
