using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>
/// An option of mdevkit's own that takes an mdevctl command over when given (<c>define --fill</c>,
/// <c>start|stop --group</c>): its action runs and its checks apply instead of mdevctl's. Without it the
/// command is mdevctl's, checks and all, as when invoked as <c>mdevctl</c>.
/// </summary>
/// <param name="Trigger">The option that takes the command over.</param>
/// <param name="Companions">Options that only mean something with the trigger.</param>
/// <param name="AddChecks">Adds the extension's own checks to the command (each looks at the options it is about).</param>
/// <param name="Action">What the command does when the trigger is given.</param>
internal sealed record CommandExtension(Option Trigger, IReadOnlyList<Option> Companions, Action<Command> AddChecks, Func<ParseResult, int> Action)
{
    /// <summary>Sets the command's action, with the extension's beside it when there is one.</summary>
    public static void SetAction(Command command, Func<ParseResult, int> mdevctl, CommandExtension? extension)
    {
        if (extension is null)
        {
            command.SetAction(mdevctl);
            return;
        }
        var checks = command.Validators.ToList();
        command.Validators.Clear();
        command.Validators.Add(result =>
        {
            if (result.GetResult(extension.Trigger) is null)
            {
                foreach (var check in checks)
                {
                    check(result);
                }
            }
        });
        extension.AddChecks(command);
        command.Options.Add(extension.Trigger);
        foreach (var companion in extension.Companions)
        {
            command.Options.Add(companion);
        }
        command.SetAction(parse => parse.GetResult(extension.Trigger) is not null ? extension.Action(parse) : mdevctl(parse));
    }
}

/// <summary>The extensions the mdevctl commands take under the <c>mdevkit</c> name.</summary>
internal interface IMdevctlExtensions
{
    /// <summary><c>define --fill PARENT</c>, with define's own <c>--type</c> and <c>--auto</c>.</summary>
    CommandExtension Fill(Option<string?> type, Option<bool> auto);

    /// <summary><c>start|stop --group NAME</c>; <paramref name="uuid"/> is the command's own <c>--uuid</c>, which the group replaces.</summary>
    CommandExtension Group(string verb, Option<Guid?> uuid);
}
