using System.Diagnostics;

namespace Mdevkit.TestSupport;

/// <summary>What a process did: its exit code and everything it wrote.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error);

/// <summary>Runs a real program with arguments (never a string to split), optional stdin and environment.</summary>
public static class CommandRunner
{
    public static CommandResult Run(string program, IEnumerable<string> arguments, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish; stderr so far: {(error.IsCompleted ? error.Result : "")}");
        }
        return new CommandResult(process.ExitCode, output.Result, error.Result);
    }
}
