using System.Text;
using Mdevkit.Management.Planning;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary>The text forms of a capacity model and of a plan.</summary>
internal static class PlanningText
{
    public static string Model(CapacityModel model)
    {
        var text = new StringBuilder();
        text.Append($"{model.Parent}: {Kind(model.Kind)}{model.Kind switch
        {
            CapacityKind.Exclusive => " (one type at a time)",
            CapacityKind.OneSize => " (one framebuffer size at a time)",
            _ => "",
        }}");
        if (model.Pool is { } pool)
        {
            text.Append(model.Slots is null ? $", a pool of {pool} units" : $", a pool of {pool} MiB of framebuffer");
        }
        if (model.Slots is { } slots)
        {
            text.Append($", {slots} virtual functions of one vGPU each");
        }
        text.Append(model.Verified ? "\n" : " (approximate: no exact fit reproduces every offer seen)\n");
        var width = model.Types.Max(type => type.Type.Length);
        var sized = model.Types.Any(type => type.Size is not null);
        text.Append($"  {"type".PadRight(width)}    max{(model.Pool is null ? "" : "  cost")}{(sized ? "  size (MiB)" : "")}\n");
        foreach (var type in model.Types)
        {
            text.Append($"  {type.Type.PadRight(width)}  {type.Max,5}{(model.Pool is null ? "" : $"  {type.Cost,4}")}{(sized ? $"  {type.Size,10}" : "")}\n");
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
        CapacityKind.OneSize => "one-size",
        _ => "independent",
    };
}
