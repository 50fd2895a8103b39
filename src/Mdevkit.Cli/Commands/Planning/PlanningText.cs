using System.Text;
using Mdevkit.Management.Planning;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary>The text forms of a capacity model and of a plan.</summary>
internal static class PlanningText
{
    public static string Model(CapacityModel model)
    {
        var text = new StringBuilder();
        text.Append($"{model.Parent}: {Kind(model.Kind)}{(model.Kind == CapacityKind.Exclusive ? " (one type at a time)" : "")}");
        if (model.Pool is { } pool)
        {
            text.Append($", a pool of {pool} units");
        }
        text.Append(model.Verified ? "\n" : " (approximate: no exact fit reproduces every offer seen)\n");
        var width = model.Types.Max(type => type.Type.Length);
        text.Append($"  {"type".PadRight(width)}    max{(model.Pool is null ? "" : "  cost")}\n");
        foreach (var type in model.Types)
        {
            text.Append($"  {type.Type.PadRight(width)}  {type.Max,5}{(type.Cost is { } cost ? $"  {cost,4}" : "")}\n");
        }
        return text.ToString();
    }

    public static string Plan(Plan plan)
    {
        var text = new StringBuilder();
        if (plan.Devices.Count > 0)
        {
            var width = plan.Devices.Max(device => device.Type.Length);
            text.Append("Placement:\n");
            foreach (var (device, index) in plan.Devices.Select((device, index) => (device, index)))
            {
                text.Append($"  {index + 1,3}  {device.Type.PadRight(width)}  {device.Parent}\n");
            }
        }
        if (plan.Unplaced.Count > 0)
        {
            text.Append("Cannot place:\n");
            foreach (var unplaced in plan.Unplaced)
            {
                text.Append($"  {unplaced.Count}x {unplaced.Type}: {unplaced.Reason}\n");
            }
        }
        text.Append("Remaining offer:\n");
        foreach (var offer in plan.Offer)
        {
            var model = offer.Probed ? Kind(offer.Model) : "not probed: independent types assumed from available_instances";
            var available = offer.Available.Count == 0 ? "nothing" : string.Join(", ", offer.Available.Select(type => $"{type.Key} {type.Value}"));
            text.Append($"  {offer.Parent} ({model}): {available}\n");
        }
        return text.ToString();
    }

    private static string Kind(CapacityKind kind) => kind switch
    {
        CapacityKind.Exclusive => "exclusive",
        CapacityKind.SharedPool => "shared-pool",
        _ => "independent",
    };
}
